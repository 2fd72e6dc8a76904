//! Badges in the flat style of shields.io: a grey label on the left, a coloured message on
//! the right, each as wide as its text in 11px Verdana plus a margin of 5px on each side.

use super::cell::ClassCell;
use super::escape::markup;
use super::model::{ResultsFile, Verdict};
use crate::spec::Class;

/// shields.io's `brightgreen`, `red` and `lightgrey`.
fn colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "#4c1",
        Verdict::Fail => "#e05d44",
        Verdict::Untested | Verdict::NotClaimed => "#9f9f9f",
    }
}

/// The advance width of `ch` in 11px Verdana, in pixels, by character group (exact
/// metrics would need the font; this is within a pixel or so per character, which the
/// margins absorb).
fn advance(ch: char) -> f64 {
    match ch {
        'i' | 'l' | 'j' | 'I' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 3.5,
        'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' => 4.7,
        'm' | 'w' | 'M' | 'W' => 10.5,
        '0'..='9' => 7.0,
        'A'..='Z' => 7.6,
        'a'..='z' => 6.6,
        _ => 8.0,
    }
}

/// The width in pixels `text` needs, margins included.
pub fn text_width(text: &str) -> u32 {
    (text.chars().map(advance).sum::<f64>() + 10.0).round() as u32
}

/// The badge of `class` for the implementation of `file`: `nono 0.81.0 core | 312/312`.
pub fn for_class(file: &ResultsFile, class: Class) -> String {
    let cell = ClassCell::of(file, class);
    svg(&format!("{} {}", file.implementation.name, class.name()), &cell.counts(), colour(cell.verdict))
}

/// A flat badge.
pub fn svg(label: &str, message: &str, fill: &str) -> String {
    let (lw, mw) = (text_width(label), text_width(message));
    let width = lw + mw;
    // SVG text is placed by its middle, in tenths of a pixel as shields does (scale .1).
    let (lx, mx) = (lw * 5, lw * 10 + mw * 5);
    let (l, m) = (markup(label), markup(message));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{l}: {m}"><title>{l}: {m}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{fill}"/><rect width="{width}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110" transform="scale(.1)"><text aria-hidden="true" x="{lx}" y="150" fill="#010101" fill-opacity=".3">{l}</text><text x="{lx}" y="140">{l}</text><text aria-hidden="true" x="{mx}" y="150" fill="#010101" fill-opacity=".3">{m}</text><text x="{mx}" y="140">{m}</text></g></svg>
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_grows_with_the_text_and_narrow_letters_count_less() {
        assert!(text_width("312/312") < text_width("3120/3120"));
        assert!(text_width("iiii") < text_width("mmmm"));
        assert_eq!(text_width(""), 10);
    }

    #[test]
    fn badge_holds_both_texts_escaped_and_its_width() {
        let badge = svg("a<b core", "1/2", "#e05d44");
        let width = text_width("a<b core") + text_width("1/2");
        assert!(badge.starts_with(&format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}""#)));
        assert!(badge.contains("<title>a&lt;b core: 1/2</title>"));
        assert!(!badge.contains("a<b"));
        assert!(badge.contains(r##"fill="#e05d44""##));
    }
}
