"""Copy the classes under one package of a jar into a new jar, renamed into another package.

The Iceberg runtime jar that PyPI's `snowpark-connect-deps-iceberg` carries refers to Jackson as
`org.apache.iceberg.shaded.com.fasterxml.jackson` but ships Jackson only under Parquet's shaded
name. This script makes the missing package from the one that is there, as a shading plugin would:
it rewrites the names in each class file's constant pool and copies the rest of the file as it is.

Usage: python relocate_jar_classes.py SOURCE_JAR FROM_PACKAGE TO_PACKAGE OUTPUT_JAR
(packages with slashes: org/apache/x).
"""

import struct
import sys
import zipfile


def relocate_names(class_bytes: bytes, old: bytes, new: bytes) -> bytes:
    """Rewrites every constant-pool UTF-8 entry of a class file that mentions `old`."""
    old_dotted, new_dotted = old.replace(b"/", b"."), new.replace(b"/", b".")
    out = bytearray(class_bytes[:10])
    (count,) = struct.unpack(">H", class_bytes[8:10])
    position, index = 10, 1
    while index < count:
        tag = class_bytes[position]
        if tag == 1:
            (length,) = struct.unpack(">H", class_bytes[position + 1 : position + 3])
            text = class_bytes[position + 3 : position + 3 + length]
            text = text.replace(old, new).replace(old_dotted, new_dotted)
            out += bytes([1]) + struct.pack(">H", len(text)) + text
            position += 3 + length
        else:
            size = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3,
                    16: 2, 17: 4, 18: 4, 19: 2, 20: 2}[tag]
            out += class_bytes[position : position + 1 + size]
            position += 1 + size
            if tag in (5, 6):
                index += 1
        index += 1
    out += class_bytes[position:]
    return bytes(out)


def main() -> None:
    source, old, new, output = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4]
    copied = 0
    with zipfile.ZipFile(source) as jar, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as out:
        for name in jar.namelist():
            if not (name.startswith(old.decode() + "/") and name.endswith(".class")):
                continue
            renamed = new.decode() + name[len(old):]
            out.writestr(renamed, relocate_names(jar.read(name), old, new))
            copied += 1
    if copied == 0:
        sys.exit(f"no class under {old.decode()} in {source}")
    print(f"{copied} classes relocated into {output}")


if __name__ == "__main__":
    main()
