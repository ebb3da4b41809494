//! Plain-text tables with aligned columns, for terminal output.

/// Rows of cells printed with every column padded to its widest cell.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first row is the header.
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|s| s.to_string()).collect()],
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, a line per row, a rule under the header.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for (i, row) in self.rows.iter().enumerate() {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                out.push_str(&rule.join("  "));
                out.push('\n');
            }
        }
        out
    }
}

/// Logits or probabilities as `[a, b]` with fixed precision.
pub fn vector(v: &[f32], precision: usize) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.precision$}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Bytes as MB with two decimals.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&["scheme", "MB"]);
        t.row(vec!["int8-dynamic".into(), "1.5".into()]);
        assert_eq!(
            t.render(),
            "scheme        MB\n------------  ---\nint8-dynamic  1.5\n"
        );
        assert_eq!(vector(&[0.5, -1.0], 2), "[0.50, -1.00]");
    }
}
