//! exports_api: size.

use super::*;

#[tokio::test]
async fn a_many_page_export_has_every_row_once_in_order() {
    const EVENTS: usize = 12_000;
    let server = TestServer::start_with(|c| c.exports.export_page_rows = 1000).await;
    let org = server.create_org("Big").await;
    let neighbour = server.create_org("Neighbour").await;
    let mut events = bulk_events(&org, EVENTS, 3);
    // Noise that must not show up: another organization, and outside the range.
    events.extend(bulk_events(&neighbour, 500, 1));
    events.push(pending_event(
        ENV,
        &event(&org, "too.late", "2026-06-01T00:00:00.000Z", ("u", None)),
    ));
    let store = server.open_store().await;
    append(store.as_ref(), &events).await;
    drop(store);

    let id = start_export(
        &server,
        &export_body(&org, "2026-04-01T00:00:00.000Z", "2026-05-01T00:00:00.000Z"),
    )
    .await;
    let (header, rows) = export_csv(&server, &id).await;
    assert_eq!(header, expected_header(3));
    assert_eq!(rows.len(), EVENTS);
    let mut expected: Vec<(i64, String)> = events[..EVENTS]
        .iter()
        .map(|e| (e.occurred_at, e.id.clone()))
        .collect();
    expected.sort();
    let got: Vec<&str> = rows.iter().map(|r| r.last().unwrap().as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(_, id)| id.as_str()).collect();
    if got != want {
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        panic!("order differs first at row {first:?}");
    }
    // Spot-check a row against its event.
    let sample = &events[4321];
    let row = rows
        .iter()
        .find(|r| r.last().unwrap() == &sample.id)
        .unwrap();
    let payload: Value = serde_json::from_str(&sample.payload).unwrap();
    assert_eq!(row[0], payload["occurred_at"].as_str().unwrap());
    assert_eq!(row[3], "user_4321");
    assert_eq!(row[9], r#"{"i":4321}"#);
    assert_eq!(row[10], "t4321_0");
}
