//! What a reply to one of our texts asks for. The carriers' (CTIA) keywords, as Twilio
//! recognises them: the whole message, any case, surrounding spaces and a full stop ignored.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsKeyword {
    /// No more texts to this number.
    Stop,
    /// Texts again, after a stop.
    Start,
    /// Who we are and how to stop.
    Help,
}

impl SmsKeyword {
    pub fn of(body: &str) -> Option<Self> {
        let word = body.trim().trim_end_matches(['.', '!']).trim().to_ascii_uppercase();
        match word.split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
            "STOP" | "STOPALL" | "STOP ALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "OPT OUT"
            | "REVOKE" => Some(Self::Stop),
            "START" | "UNSTOP" | "YES" => Some(Self::Start),
            "HELP" | "INFO" => Some(Self::Help),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Start => "start",
            Self::Help => "help",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SmsKeyword::{self, *};

    #[test]
    fn the_carriers_keywords_in_any_case_with_spaces_and_a_full_stop() {
        for (body, want) in [
            ("STOP", Some(Stop)),
            (" stop. ", Some(Stop)),
            ("Stop all", Some(Stop)),
            ("unsubscribe", Some(Stop)),
            ("Quit!", Some(Stop)),
            ("opt  out", Some(Stop)),
            ("start", Some(Start)),
            ("UNSTOP", Some(Start)),
            ("yes", Some(Start)),
            ("help", Some(Help)),
            ("Info", Some(Help)),
        ] {
            assert_eq!(SmsKeyword::of(body), want, "{body:?}");
        }
    }

    #[test]
    fn a_sentence_that_merely_contains_a_keyword_is_not_one() {
        for body in
            ["please stop by tomorrow", "yes please come at 3", "", "   ", "STOPP", "help me with the leak", "ＳＴＯＰ"]
        {
            assert_eq!(SmsKeyword::of(body), None, "{body:?}");
        }
    }
}
