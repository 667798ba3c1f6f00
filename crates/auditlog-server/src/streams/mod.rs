//! Log streams: each organization's events delivered to its receivers (SIEMs, log services,
//! webhooks) in sequence order, at least once, with nothing lost. The API that configures
//! streams is in `routes::log_streams`; this module validates destinations, formats what each
//! receiver gets, and runs delivery.

pub mod delivery;
pub mod destination;
pub mod record;

use crate::clock::now_micros;
use crate::config::StreamsConfig;
use auditlog_store::LogStream;
use destination::{Batch, DeliveryFailure, Destination, Outbound, Receipt};
use record::StreamRecord;

/// Sends the synthetic test event to a stream's receiver now, outside its sequence, and
/// returns what the receiver answered. The stream's position and counters do not change.
pub async fn send_test_event(
    config: &StreamsConfig,
    stream: &LogStream,
    destination: &Destination,
) -> Result<Receipt, DeliveryFailure> {
    let outbound = Outbound::new(config);
    let records = [StreamRecord::test(
        &stream.id,
        &stream.organization_id,
        now_micros(),
    )];
    destination
        .deliver(
            &outbound,
            &Batch {
                stream_id: &stream.id,
                records: &records,
            },
        )
        .await
}
