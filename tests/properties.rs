//! Property tests of the response-stream reader and the value codec.

use appose::protocol::{decode_response, split_line};
use appose::value::{parse, Map, Value};
use proptest::prelude::*;

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        // Integers far beyond 64 bits, as Python writes them.
        "-?[1-9][0-9]{19,40}".prop_map(|s| parse(&s).unwrap()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|entries| {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k, v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// Equality that treats NaN as equal to itself.
fn same(a: &Value, b: &Value) -> bool {
    a.to_json() == b.to_json()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn values_survive_a_round_trip_through_json_text(v in value()) {
        let text = v.to_json();
        let back = parse(&text).unwrap();
        prop_assert!(same(&v, &back), "{} -> {}", text, back.to_json());
        prop_assert!(text.is_ascii());
    }

    #[test]
    fn the_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse(&text);
        let _ = split_line(&bytes);
    }

    #[test]
    fn glued_responses_are_all_recovered(
        ids in prop::collection::vec("[0-9a-f]{32}", 1..8),
        outputs in prop::collection::vec(value(), 1..8),
        gaps in prop::collection::vec("[ a-zA-Z0-9.,:!?\t]{0,12}", 8),
    ) {
        // Responses glued together, separated by printed text without braces.
        let mut line = String::new();
        for (i, id) in ids.iter().enumerate() {
            line.push_str(&gaps[i % gaps.len()]);
            let mut m = Map::new();
            m.insert("outputs", Value::Object({
                let mut o = Map::new();
                o.insert("result", outputs[i % outputs.len()].clone());
                o
            }));
            m.insert("task", Value::from(id.as_str()));
            m.insert("responseType", Value::from("COMPLETION"));
            line.push_str(&Value::Object(m).to_json());
        }
        let split = split_line(line.as_bytes());
        let got: Vec<String> = split
            .objects
            .into_iter()
            .map(|o| decode_response(o).unwrap().task)
            .collect();
        prop_assert_eq!(got, ids);
    }
}

/// A response whose outputs nest one level deeper than the parser allows.
fn too_deep_response(id: &str) -> String {
    // The response and its outputs are the first two levels.
    let levels = appose::value::MAX_DEPTH - 1;
    format!(
        r#"{{"task":"{id}","responseType":"COMPLETION","outputs":{{"r":{}{}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

proptest! {
    // Each case parses a line of over 100,000 brackets.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_response_too_deep_to_read_is_reported_and_the_others_recovered(
        ids in prop::collection::vec("[0-9a-f]{32}", 1..6),
        deep in any::<prop::sample::Index>(),
        gap in "[ a-z.]{0,6}",
    ) {
        let deep = deep.index(ids.len());
        let mut line = String::new();
        for (i, id) in ids.iter().enumerate() {
            line.push_str(&gap);
            if i == deep {
                line.push_str(&too_deep_response(id));
            } else {
                line.push_str(&format!(r#"{{"task":"{id}","responseType":"UPDATE"}}"#));
            }
        }
        let split = split_line(line.as_bytes());
        let got: Vec<String> = split
            .objects
            .into_iter()
            .map(|o| decode_response(o).unwrap().task)
            .collect();
        let mut others = ids.clone();
        let deep_id = others.remove(deep);
        prop_assert_eq!(got, others);
        let bad: Vec<&str> = split.undecodable.iter().map(|u| u.task.as_str()).collect();
        prop_assert_eq!(bad, vec![deep_id.as_str()]);
        prop_assert!(split.undecodable[0].reason.contains("nesting deeper than"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_reader_never_panics_on_response_fragments(
        parts in prop::collection::vec(
            prop::sample::select(vec![
                "{", "}", "[", "]", ":", ",", " ", "\"", "\\", "\"task\"", "\"responseType\"",
                "\"t\"", "\"UPDATE\"", "1", "nope",
            ]),
            0..64,
        ),
    ) {
        let line = parts.concat();
        let split = split_line(line.as_bytes());
        for u in &split.undecodable {
            // The id as the line spells it: JSON-escaped (`"\"task"` is the
            // id `"task`).
            let spelled = appose::Value::from(u.task.as_str()).to_json();
            prop_assert!(line.contains(&spelled), "{} from {}", u.task, line);
        }
    }
}

#[test]
fn an_unreadable_response_names_its_task_unescaped() {
    // Found by the property above: the id is the JSON string's value.
    let split = split_line(br#"{"task":"\"task""#);
    assert_eq!(split.undecodable.len(), 1);
    assert_eq!(split.undecodable[0].task, "\"task");
}
