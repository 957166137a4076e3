//! Text as people type it, made safe to store and show: Unicode NFC, tidy whitespace, and none
//! of the invisible characters that could make what a plumber reads differ from what was typed
//! (control codes, bidi overrides and isolates, zero-width characters).

use unicode_normalization::UnicodeNormalization;

/// An invisible character we refuse anywhere in lead text. Its Display is a fallback; each field
/// says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("There's a hidden character in there we can't use — could you type it again?")]
pub struct HiddenChar(pub char);

/// Characters never stored: Unicode Cc (control codes), bidi embeddings/overrides
/// (U+202A–U+202E) and isolates (U+2066–U+2069), zero-width space/joiners (U+200B–U+200D),
/// the word joiner (U+2060) and the byte-order mark (U+FEFF).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

/// Unicode's line terminators: LF, VT, FF, CR, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{B}' | '\u{C}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// For one-line fields (name, phone, …): NFC, trimmed, every run of whitespace (tabs and line
/// breaks included, as pasted text often has them) becomes one space; any other forbidden
/// character is refused.
pub fn single_line(input: &str) -> Result<String, HiddenChar> {
    let mut out = String::with_capacity(input.len());
    let mut space_pending = false;
    for c in input.nfc() {
        if c.is_whitespace() {
            // Leading whitespace is dropped; trailing whitespace is never followed by a push.
            space_pending = !out.is_empty();
        } else if is_forbidden(c) {
            return Err(HiddenChar(c));
        } else {
            if space_pending {
                out.push(' ');
                space_pending = false;
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// Blank lines in a row kept at most; more say nothing more and push the text off a phone screen.
const MAX_BLANK_LINES: usize = 2;

/// For the job description: NFC; every line break (CRLF, CR, NEL, U+2028/9, …) becomes `\n`;
/// other whitespace (tabs included) becomes a plain space; spaces at line ends and blank lines at
/// either end go; runs of more than two blank lines become two. Forbidden characters are refused.
pub fn multi_line(input: &str) -> Result<String, HiddenChar> {
    let mut out = String::with_capacity(input.len());
    let mut line = String::new();
    let mut blank_run = 0_usize;
    let mut chars = input.nfc().peekable();
    loop {
        let c = chars.next();
        match c {
            Some('\r') if chars.peek() == Some(&'\n') => continue, // CRLF: the LF ends the line
            Some(c) if c.is_whitespace() && !is_line_break(c) => line.push(' '),
            Some(c) if is_forbidden(c) && !is_line_break(c) => return Err(HiddenChar(c)),
            Some(c) if !is_line_break(c) => line.push(c),
            _ => {
                let text = line.trim_end();
                if text.is_empty() {
                    blank_run += 1;
                } else if out.is_empty() {
                    out.push_str(text.trim_start());
                } else {
                    out.extend(std::iter::repeat_n('\n', 1 + blank_run.min(MAX_BLANK_LINES)));
                    out.push_str(text);
                }
                if !text.is_empty() {
                    blank_run = 0;
                }
                line.clear();
                if c.is_none() {
                    return Ok(out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_trims_collapses_and_composes() {
        assert_eq!(single_line("  Jane \t\n  Doe  "), Ok("Jane Doe".into()));
        assert_eq!(single_line("Jose\u{301}"), Ok("José".into()));
        assert_eq!(single_line("a\u{A0}\u{3000}b"), Ok("a b".into()));
        assert_eq!(single_line(""), Ok(String::new()));
        assert_eq!(single_line(" \t\r\n "), Ok(String::new()));
    }

    #[test]
    fn single_line_refuses_hidden_characters() {
        for c in [
            '\0', '\u{7}', '\u{1B}', '\u{7F}', '\u{9F}', '\u{1F}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}',
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
        ] {
            assert_eq!(single_line(&format!("Bob{c}by")), Err(HiddenChar(c)), "{c:?}");
        }
    }

    #[test]
    fn multi_line_normalises_line_breaks_and_blank_lines() {
        assert_eq!(multi_line("a\r\nb\rc\nd"), Ok("a\nb\nc\nd".into()));
        assert_eq!(multi_line("a\u{2028}b\u{85}c"), Ok("a\nb\nc".into()));
        assert_eq!(multi_line("a\tb"), Ok("a b".into()));
        assert_eq!(multi_line("a  b"), Ok("a  b".into()), "spacing inside a line is kept");
        assert_eq!(multi_line("a   \nb"), Ok("a\nb".into()));
        assert_eq!(multi_line("a\n\nb"), Ok("a\n\nb".into()));
        assert_eq!(multi_line("a\n\n\nb"), Ok("a\n\n\nb".into()));
        assert_eq!(multi_line("a\n\n\n\nb"), Ok("a\n\n\nb".into()));
        assert_eq!(multi_line("a\n \n\t\n  \n\n\nb"), Ok("a\n\n\nb".into()));
        assert_eq!(multi_line("\r\n\r\n  a\n  b \n\n"), Ok("a\n  b".into()));
        assert_eq!(multi_line(" \n \n "), Ok(String::new()));
    }

    #[test]
    fn multi_line_refuses_hidden_characters_but_not_line_breaks() {
        assert_eq!(multi_line("a\u{202E}b"), Err(HiddenChar('\u{202E}')));
        assert_eq!(multi_line("a\u{0}b"), Err(HiddenChar('\0')));
        assert_eq!(multi_line("a\u{B}b\u{C}c"), Ok("a\nb\nc".into()));
    }
}
