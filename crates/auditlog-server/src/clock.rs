//! Wall-clock time in the stored unit (microseconds since the Unix epoch).

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
