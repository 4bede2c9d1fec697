//! What the benchmark drivers share: medians, the sizes to run, and the growth table that shows
//! how each contender's time grows with the number of migrations.

use std::time::Duration;

/// The middle sample.
///
/// # Panics
///
/// With no samples.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The numbers in environment variable `variable` (comma-separated), else `default`.
///
/// # Panics
///
/// When an item is not a number.
pub fn sizes(variable: &str, default: &str) -> Vec<usize> {
    std::env::var(variable)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .unwrap_or_else(|_| panic!("{variable}: {item} is not a number"))
        })
        .collect()
}

/// One comparison at one size: its title, the size, each contender's name and median.
type Row = (String, usize, Vec<(String, Duration)>);

/// Each contender's median at each size, per comparison.
#[derive(Default)]
pub struct Growth {
    rows: Vec<Row>,
}

impl Growth {
    /// Records one comparison at one size: each contender's name and samples.
    pub fn record(&mut self, title: &str, size: usize, rows: &[(&str, Vec<Duration>)]) {
        let medians = rows
            .iter()
            .map(|(name, samples)| ((*name).to_owned(), median(samples.clone())))
            .collect();
        self.rows.push((title.to_owned(), size, medians));
    }

    /// Prints each comparison: every contender's median at each size, and the factor from the
    /// previous size (linear growth is the ratio of the sizes).
    pub fn print(&self) {
        println!("\ngrowth with the number of migrations (median ms; factor to the previous size)");
        let mut titles: Vec<&str> = Vec::new();
        for (title, _, _) in &self.rows {
            if !titles.contains(&title.as_str()) {
                titles.push(title);
            }
        }
        for title in titles {
            println!("  {title}");
            let rows: Vec<_> = self.rows.iter().filter(|(t, _, _)| t == title).collect();
            for contender in 0..rows[0].2.len() {
                let mut line = format!("    {:<32}", rows[0].2[contender].0);
                let mut previous: Option<Duration> = None;
                for (_, size, medians) in &rows {
                    let time = medians[contender].1;
                    line.push_str(&format!(
                        " {size:>6}: {:>10.3} ms",
                        time.as_secs_f64() * 1000.0
                    ));
                    if let Some(previous) = previous {
                        let factor = time.as_secs_f64() / previous.as_secs_f64();
                        line.push_str(&format!(" (×{factor:.1})"));
                    }
                    previous = Some(time);
                }
                println!("{line}");
            }
        }
    }
}
