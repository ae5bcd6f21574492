//! The tables Helm prints with gosuri/uitable: every cell padded to its column's width (the
//! last one too), cells joined by a tab, rows by a newline, a final newline.

/// Display width: one column per character (go-runewidth would count East Asian wide
/// characters as two).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// uitable's cut of a cell longer than the column limit: characters up to three short of
/// it, then `...`.
fn cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(3).max(1);
    let mut out: String = s.chars().take(keep).collect();
    out.push_str("...");
    out
}

/// The rows as uitable prints them, with `max_col_width` as its `MaxColWidth`.
pub fn table(rows: &[Vec<String>], max_col_width: Option<usize>) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|c| max_col_width.map_or_else(|| c.clone(), |m| cut(c, m)))
                .collect()
        })
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - width(cell))))
            .collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_every_cell_and_cuts_long_ones() {
        let rows = vec![
            vec!["NAME".to_string(), "URL".to_string()],
            vec!["s".to_string(), "http://example.com/charts".to_string()],
        ];
        assert_eq!(
            table(&rows, Some(10)),
            "NAME\tURL       \ns   \thttp://...\n"
        );
        let rows = vec![
            ["NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"]
                .map(String::from)
                .to_vec(),
            ["other/nginx", "1.0.0", "1.0.0", "Web server"]
                .map(String::from)
                .to_vec(),
        ];
        assert_eq!(
            table(&rows, Some(50)),
            "NAME       \tCHART VERSION\tAPP VERSION\tDESCRIPTION\nother/nginx\t1.0.0        \t1.0.0      \tWeb server \n"
        );
        assert_eq!(
            table(&rows, Some(8)).lines().next().unwrap(),
            "NAME    \tCHART...\tAPP V...\tDESCR..."
        );
    }
}
