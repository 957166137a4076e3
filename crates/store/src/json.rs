//! JSON as PostgreSQL's `jsonb` can hold it. `jsonb` refuses the NUL character (`\u0000`) that
//! JSON itself allows, and records of what someone sent (a refused submission, an audit detail)
//! must be kept whatever was sent: a NUL in any string or key is kept as U+FFFD.

use serde_json::Value;

pub fn storable(value: Value) -> Value {
    let clean = |s: String| if s.contains('\0') { s.replace('\0', "\u{FFFD}") } else { s };
    match value {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(storable).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (clean(k), storable(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_in_strings_and_keys_becomes_a_replacement_character_and_nothing_else_changes() {
        let sent = json!({"a\u{0}": ["x\u{0}y", 1, null, {"k": "\u{0}"}], "ok": "fine", "n": 2.5});
        let want = json!({"a\u{fffd}": ["x\u{fffd}y", 1, null, {"k": "\u{fffd}"}], "ok": "fine", "n": 2.5});
        assert_eq!(storable(sent), want);
    }
}
