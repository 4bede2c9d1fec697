//! Snowflake's key-pair authentication: a JWT (RS256) whose issuer names the public key by its
//! SHA-256 fingerprint, as Snowflake documents it ("Using key-pair authentication"):
//! `iss = ACCOUNT.USER.SHA256:<base64 fingerprint>`, `sub = ACCOUNT.USER`, `iat`, `exp` within
//! an hour; ACCOUNT upper-cased and without a locator's region part (`xy12345.us-east-1` →
//! `XY12345`), USER upper-cased.
//!
//! The three parts of the token are put together here (`rsa` signs): a JWT library would bring a
//! second RSA implementation for two base64 strings and a signature.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::sha2::{Digest as _, Sha256};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Why the key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the Snowflake private key cannot be used: {0}")]
pub(crate) struct KeyError(String);

/// Reads a PEM key: PKCS#8 (`BEGIN PRIVATE KEY`), encrypted PKCS#8 (`BEGIN ENCRYPTED PRIVATE
/// KEY`, with its passphrase) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
fn read_key(pem: &str, passphrase: Option<&str>) -> Result<RsaPrivateKey, KeyError> {
    let pem = pem.trim();
    if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        let passphrase = passphrase.ok_or_else(|| {
            KeyError(
                "it is encrypted and no passphrase is set (snowflake_private_key_password or \
                 JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD)"
                    .to_owned(),
            )
        })?;
        return RsaPrivateKey::from_pkcs8_encrypted_pem(pem, passphrase.as_bytes())
            .map_err(|error| KeyError(format!("{error} (a wrong passphrase reads as a bad key)")));
    }
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs1_pem(pem).map_err(|error| KeyError(error.to_string()));
    }
    RsaPrivateKey::from_pkcs8_pem(pem).map_err(|error| {
        KeyError(format!(
            "{error}; expected an RSA key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN \
             ENCRYPTED PRIVATE KEY-----)"
        ))
    })
}

/// `SHA256:<base64>` of the public key's DER (SubjectPublicKeyInfo): what Snowflake stores as
/// the user's `RSA_PUBLIC_KEY_FP`.
fn fingerprint(public_key: &RsaPublicKey) -> Result<String, KeyError> {
    let der = public_key
        .to_public_key_der()
        .map_err(|error| KeyError(error.to_string()))?;
    Ok(format!(
        "SHA256:{}",
        STANDARD.encode(Sha256::digest(der.as_bytes()))
    ))
}

/// The account part of the token's names.
fn account_for_token(account: &str) -> String {
    account
        .split('.')
        .next()
        .unwrap_or(account)
        .to_ascii_uppercase()
}

/// A login token for `user` of `account`, valid for an hour from now.
pub(crate) fn jwt(
    account: &str,
    user: &str,
    pem: &str,
    passphrase: Option<&str>,
) -> Result<String, KeyError> {
    let key = read_key(pem, passphrase)?;
    let subject = format!(
        "{}.{}",
        account_for_token(account),
        user.to_ascii_uppercase()
    );
    let issuer = format!("{subject}.{}", fingerprint(&key.to_public_key())?);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
    let claims = serde_json::json!({
        "iss": issuer,
        "sub": subject,
        "iat": now,
        "exp": now + 3540,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key).sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier as _;

    const KEY: &str = include_str!("../../../tests/fixtures/snowflake/rsa_key.p8");
    const ENCRYPTED_KEY: &str =
        include_str!("../../../tests/fixtures/snowflake/rsa_key_encrypted.p8");
    const PUBLIC_KEY_FP: &str = include_str!("../../../tests/fixtures/snowflake/rsa_key.fp");

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value, Vec<u8>) {
        let pieces: Vec<&str> = token.split('.').collect();
        assert_eq!(pieces.len(), 3, "{token}");
        let decode = |piece: &str| URL_SAFE_NO_PAD.decode(piece).unwrap();
        (
            serde_json::from_slice(&decode(pieces[0])).unwrap(),
            serde_json::from_slice(&decode(pieces[1])).unwrap(),
            decode(pieces[2]),
        )
    }

    #[test]
    fn token_names_the_key_as_snowflake_expects_and_verifies() {
        let token = jwt("xy12345.us-east-1", "deploy_user", KEY, None).unwrap();
        let (header, claims, signature) = parts(&token);
        assert_eq!(header["alg"], "RS256");
        // The fingerprint openssl computes for the same key (see the fixture's README).
        assert_eq!(
            claims["iss"],
            format!("XY12345.DEPLOY_USER.{}", PUBLIC_KEY_FP.trim())
        );
        assert_eq!(claims["sub"], "XY12345.DEPLOY_USER");
        let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
        assert!(lifetime <= 3600, "{lifetime}");
        let public = read_key(KEY, None).unwrap().to_public_key();
        let signed = token.rsplit_once('.').unwrap().0;
        VerifyingKey::<Sha256>::new(public)
            .verify(
                signed.as_bytes(),
                &Signature::try_from(signature.as_slice()).unwrap(),
            )
            .expect("the signature verifies with the public key");
    }

    #[test]
    fn encrypted_keys_need_their_passphrase() {
        let plain = jwt("acct", "u", KEY, None).unwrap();
        let encrypted = jwt("acct", "u", ENCRYPTED_KEY, Some("jetbase-test")).unwrap();
        assert_eq!(
            parts(&plain).1["iss"],
            parts(&encrypted).1["iss"],
            "the same key"
        );
        let missing = jwt("acct", "u", ENCRYPTED_KEY, None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("JETBASE_SNOWFLAKE_PRIVATE_KEY_PASSWORD"),
            "{missing}"
        );
        assert!(jwt("acct", "u", ENCRYPTED_KEY, Some("wrong")).is_err());
        let garbage = jwt("acct", "u", "not a key", None).unwrap_err().to_string();
        assert!(garbage.contains("BEGIN PRIVATE KEY"), "{garbage}");
    }
}
