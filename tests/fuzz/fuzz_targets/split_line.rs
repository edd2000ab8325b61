//! Any worker stdout line: the reader never panics, and every object it
//! recovers re-encodes to text it can read again.
#![no_main]

use appose::protocol::{decode_response, split_line};
use appose::value::{parse, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = split_line(data);
    for obj in split.objects {
        let text = Value::Object(obj.clone()).to_json();
        assert!(parse(&text).is_ok(), "{text}");
        let _ = decode_response(obj);
    }
});
