//! The worker protocol: requests we write, responses we read.
//!
//! Owns the wire form of requests, the tolerant reading of worker stdout and
//! the crash report. Pure functions, no threads (the crash report of a
//! worker killed by SIGBUS reads the free space of `/dev/shm`).
//!
//! The Python worker writes a response and its newline in two writes, so
//! concurrent tasks produce lines such as `{A}{B}` and blank lines; scripts
//! print to the same stdout. [`split_line`] therefore reads each line as a
//! stream of JSON values, keeps every object it can recover, and reports the
//! rest as not-a-response so the line can be kept as an "invalid line".

use crate::value::{self, Map, Value};

/// How a response moves a task along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseType {
    Launch,
    Update,
    Completion,
    Cancelation,
    Failure,
    /// Never sent by a worker: our own verdict when the worker exits with the
    /// task pending.
    Crash,
}

impl ResponseType {
    pub fn from_wire(s: &str) -> Option<Self> {
        Some(match s {
            "LAUNCH" => ResponseType::Launch,
            "UPDATE" => ResponseType::Update,
            "COMPLETION" => ResponseType::Completion,
            "CANCELATION" => ResponseType::Cancelation,
            "FAILURE" => ResponseType::Failure,
            "CRASH" => ResponseType::Crash,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Launch => "LAUNCH",
            ResponseType::Update => "UPDATE",
            ResponseType::Completion => "COMPLETION",
            ResponseType::Cancelation => "CANCELATION",
            ResponseType::Failure => "FAILURE",
            ResponseType::Crash => "CRASH",
        }
    }

    /// True for the responses that end a task.
    pub fn is_terminal(self) -> bool {
        !matches!(self, ResponseType::Launch | ResponseType::Update)
    }
}

/// One decoded response.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub task: String,
    pub response_type: ResponseType,
    pub message: Option<String>,
    pub current: Option<i64>,
    pub maximum: Option<i64>,
    pub info: Option<Value>,
    pub outputs: Option<Map>,
    pub error: Option<String>,
}

impl Response {
    /// A CRASH verdict for `task`.
    pub fn crash(task: &str, error: String) -> Self {
        Response {
            task: task.to_owned(),
            response_type: ResponseType::Crash,
            message: None,
            current: None,
            maximum: None,
            info: None,
            outputs: None,
            error: Some(error),
        }
    }
}

/// Why an object read from stdout is not a usable response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotAResponse {
    NoTask,
    BadType(String),
}

/// Decodes a JSON object into a response.
pub fn decode_response(obj: Map) -> Result<Response, NotAResponse> {
    let mut obj = obj;
    let Some(Value::String(task)) = obj.remove("task") else {
        return Err(NotAResponse::NoTask);
    };
    let response_type = match obj.get("responseType") {
        Some(Value::String(s)) => {
            ResponseType::from_wire(s).ok_or_else(|| NotAResponse::BadType(s.clone()))?
        }
        other => {
            return Err(NotAResponse::BadType(
                other.map(Value::to_json).unwrap_or_default(),
            ))
        }
    };
    let string = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let outputs = match obj.remove("outputs") {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    Ok(Response {
        task,
        response_type,
        message: string(obj.remove("message")),
        current: obj.get("current").and_then(Value::as_i64),
        maximum: obj.get("maximum").and_then(Value::as_i64),
        info: obj.remove("info").filter(|v| !v.is_null()),
        outputs,
        error: string(obj.remove("error")),
    })
}

/// The objects recovered from one stdout line, and whether the line also held
/// something else (garbage, a partial value, a non-object value).
#[derive(Debug, Default, PartialEq)]
pub struct SplitLine {
    pub objects: Vec<Map>,
    pub has_garbage: bool,
}

/// Bound on resynchronisation attempts within one line, so that a long line
/// of brace-laden garbage costs linear rather than quadratic time.
const MAX_RESYNC: usize = 64;

/// Splits one stdout line (without its newline) into the JSON objects on it.
///
/// Blank lines yield nothing. Where parsing fails, reading resumes at the next
/// `{`, so a response glued after printed text is still found.
pub fn split_line(line: &[u8]) -> SplitLine {
    let mut out = SplitLine::default();
    let mut pos = value::skip_ws(line, 0);
    let mut resyncs = 0;
    while pos < line.len() {
        match value::parse_prefix(line, pos) {
            Ok((Value::Object(m), end)) => {
                out.objects.push(m);
                pos = value::skip_ws(line, end);
            }
            Ok((_, end)) => {
                out.has_garbage = true;
                pos = value::skip_ws(line, end);
            }
            Err(_) => {
                out.has_garbage = true;
                resyncs += 1;
                if resyncs > MAX_RESYNC {
                    break;
                }
                match line[pos + 1..].iter().position(|&b| b == b'{') {
                    Some(off) => pos += 1 + off,
                    None => break,
                }
            }
        }
    }
    out
}

/// The EXECUTE request line (without newline), field order as the peers send it.
pub fn execute_request(task: &str, script: &str, inputs: &Map, queue: Option<&str>) -> String {
    let mut s = String::with_capacity(64 + script.len());
    s.push_str("{\"task\":");
    value::write_json_string(task, &mut s);
    s.push_str(",\"requestType\":\"EXECUTE\",\"script\":");
    value::write_json_string(script, &mut s);
    s.push_str(",\"inputs\":");
    Value::Object(inputs.clone()).write_json(&mut s);
    s.push_str(",\"queue\":");
    match queue {
        Some(q) => value::write_json_string(q, &mut s),
        None => s.push_str("null"),
    }
    s.push('}');
    s
}

/// The CANCEL request line (without newline).
pub fn cancel_request(task: &str) -> String {
    let mut s = String::with_capacity(64);
    s.push_str("{\"task\":");
    value::write_json_string(task, &mut s);
    s.push_str(",\"requestType\":\"CANCEL\"}");
    s
}

/// How a death by SIGBUS is reported: 128 + signal 7, by us and by a shell
/// or launcher between us and the worker alike.
pub const SIGBUS_EXIT_CODE: i32 = 128 + libc::SIGBUS;

/// The crash report both peers give a task whose worker exited under it,
/// to the letter; after it, for a worker killed by SIGBUS, one line of ours
/// saying what that usually means.
pub fn crash_message(exit_code: i32, invalid_lines: &[String], error_lines: &[String]) -> String {
    let mut s = peers_crash_message(exit_code, invalid_lines, error_lines);
    if exit_code == SIGBUS_EXIT_CODE {
        s.push_str(&sigbus_hint(crate::shm::space()));
    }
    s
}

/// The line added to the crash report of a worker killed by SIGBUS, given
/// what `/dev/shm` has now. Mapped files that shrink also raise SIGBUS, but
/// here the usual cause is a block written past the space of `/dev/shm`.
pub(crate) fn sigbus_hint(space: Option<crate::shm::Space>) -> String {
    let size = crate::shm::suggested_shm_size(space.map_or(0, |s| s.total.saturating_mul(2)));
    format!(
        "The worker was killed by SIGBUS (exit code {SIGBUS_EXIT_CODE}): most likely shared \
         memory ran out ({}). Give it more: run the container with --shm-size={size}, or \
         remount /dev/shm larger (mount -o remount,size={size} /dev/shm).\n",
        crate::shm::describe_space(space)
    )
}

fn peers_crash_message(exit_code: i32, invalid_lines: &[String], error_lines: &[String]) -> String {
    let mut s = format!("Worker crashed with exit code {exit_code}.\n\n[stdout]\n");
    let section = |s: &mut String, lines: &[String]| {
        if lines.is_empty() {
            s.push_str("<none>\n");
        }
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
    };
    section(&mut s, invalid_lines);
    s.push_str("\n[stderr]\n");
    section(&mut s, error_lines);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(line: &str) -> (Vec<String>, bool) {
        let split = split_line(line.as_bytes());
        let ids = split
            .objects
            .into_iter()
            .map(|m| decode_response(m).unwrap().task)
            .collect();
        (ids, split.has_garbage)
    }

    #[test]
    fn glued_responses_are_all_recovered() {
        let line = r#"{"task":"a","responseType":"LAUNCH"}{"task":"b","responseType":"UPDATE","info":null} {"task":"c","responseType":"COMPLETION"}"#;
        assert_eq!(
            tasks(line),
            (vec!["a".into(), "b".into(), "c".into()], false)
        );
    }

    #[test]
    fn blank_and_garbage_lines() {
        assert_eq!(tasks("   "), (vec![], false));
        assert_eq!(tasks("hello world"), (vec![], true));
        assert_eq!(tasks("42"), (vec![], true));
        assert_eq!(tasks("{bad json"), (vec![], true));
        let glued = r#"printed {x} {"task":"t","responseType":"LAUNCH"}"#;
        assert_eq!(tasks(glued), (vec!["t".into()], true));
    }

    #[test]
    fn decodes_update_fields() {
        let split = split_line(
            br#"{"message":"m","current":3,"maximum":9,"info":{"k":[1]},"task":"t","responseType":"UPDATE"}"#,
        );
        let r = decode_response(split.objects.into_iter().next().unwrap()).unwrap();
        assert_eq!(r.response_type, ResponseType::Update);
        assert_eq!(r.message.as_deref(), Some("m"));
        assert_eq!((r.current, r.maximum), (Some(3), Some(9)));
        assert_eq!(r.info.unwrap().to_json(), r#"{"k":[1]}"#);
    }

    #[test]
    fn objects_that_are_not_responses() {
        let m = |s: &str| value::parse(s).unwrap().as_object().unwrap().clone();
        assert_eq!(decode_response(m(r#"{"x":1}"#)), Err(NotAResponse::NoTask));
        assert_eq!(
            decode_response(m(r#"{"task":"t","responseType":"NOPE"}"#)),
            Err(NotAResponse::BadType("NOPE".into()))
        );
    }

    #[test]
    fn requests_have_the_peers_shape() {
        let mut inputs = Map::new();
        inputs.insert("x", Value::from(1i64));
        assert_eq!(
            execute_request("id", "x+1", &inputs, Some("main")),
            r#"{"task":"id","requestType":"EXECUTE","script":"x+1","inputs":{"x":1},"queue":"main"}"#
        );
        assert_eq!(
            cancel_request("id"),
            r#"{"task":"id","requestType":"CANCEL"}"#
        );
    }

    #[test]
    fn crash_message_matches_the_peers() {
        assert_eq!(
            crash_message(1, &[], &["boom".into()]),
            "Worker crashed with exit code 1.\n\n[stdout]\n<none>\n\n[stderr]\nboom\n"
        );
        // Other signals get the peers' report alone.
        assert_eq!(
            crash_message(137, &["x".into()], &[]),
            "Worker crashed with exit code 137.\n\n[stdout]\nx\n\n[stderr]\n<none>\n"
        );
    }

    #[test]
    fn a_sigbus_crash_says_what_it_usually_means() {
        let peers = "Worker crashed with exit code 135.\n\n[stdout]\n<none>\n\n[stderr]\nboom\n";
        let message = crash_message(135, &[], &["boom".into()]);
        let hint = message
            .strip_prefix(peers)
            .expect("the peers' report comes first");
        assert!(
            hint.starts_with("The worker was killed by SIGBUS"),
            "{hint}"
        );
        assert!(hint.contains("/dev/shm has "), "{hint}");
        assert_eq!(hint.matches('\n').count(), 1, "one line: {hint:?}");
        let space = crate::shm::Space {
            free: 0,
            total: 64 << 20,
        };
        assert_eq!(
            sigbus_hint(Some(space)),
            "The worker was killed by SIGBUS (exit code 135): most likely shared memory ran \
             out (/dev/shm has 0 bytes free of 67108864 bytes (64.0 MiB)). Give it more: run \
             the container with --shm-size=1g, or remount /dev/shm larger (mount -o \
             remount,size=1g /dev/shm).\n"
        );
        assert!(sigbus_hint(None).contains("the free space of /dev/shm cannot be read"));
    }
}
