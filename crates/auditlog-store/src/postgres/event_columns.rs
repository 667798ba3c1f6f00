//! A batch of pending events as column arrays, bound to `UNNEST` so that one statement inserts
//! the whole batch however large it is.

use crate::types::PendingEvent;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

pub(super) struct EventColumns<'a> {
    pub ids: Vec<&'a str>,
    pub environments: Vec<&'a str>,
    pub organizations: Vec<&'a str>,
    pub occurred: Vec<i64>,
    pub received: Vec<i64>,
    pub actions: Vec<&'a str>,
    pub actor_ids: Vec<&'a str>,
    pub actor_names: Vec<Option<&'a str>>,
    pub target_counts: Vec<i64>,
    pub payloads: Vec<&'a str>,
    pub leaf_hashes: Vec<&'a [u8]>,
    /// One (event id, target type) pair per distinct target type of each event.
    pub type_event_ids: Vec<&'a str>,
    pub type_names: Vec<&'a str>,
}

impl<'a> EventColumns<'a> {
    pub fn new(events: impl Iterator<Item = &'a PendingEvent> + Clone) -> Self {
        let text = |f: fn(&'a PendingEvent) -> &'a str| events.clone().map(f).collect();
        let (type_event_ids, type_names) = events
            .clone()
            .flat_map(|e| {
                e.target_types
                    .iter()
                    .map(move |t| (e.id.as_str(), t.as_str()))
            })
            .unzip();
        EventColumns {
            ids: text(|e| &e.id),
            environments: text(|e| &e.environment),
            organizations: text(|e| &e.organization_id),
            occurred: events.clone().map(|e| e.occurred_at).collect(),
            received: events.clone().map(|e| e.received_at).collect(),
            actions: text(|e| &e.action),
            actor_ids: text(|e| &e.actor_id),
            actor_names: events.clone().map(|e| e.actor_name.as_deref()).collect(),
            target_counts: events.clone().map(|e| e.target_count).collect(),
            payloads: text(|e| &e.payload),
            leaf_hashes: events.clone().map(|e| &e.leaf_hash[..]).collect(),
            type_event_ids,
            type_names,
        }
    }

    /// Binds the columns as parameters $1..$13, in field order: ids, environments,
    /// organizations, occurred, received, actions, actor ids, actor names, target counts,
    /// payloads, leaf hashes, then the (event id, target type) pairs.
    pub fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        query
            .bind(&self.ids)
            .bind(&self.environments)
            .bind(&self.organizations)
            .bind(&self.occurred)
            .bind(&self.received)
            .bind(&self.actions)
            .bind(&self.actor_ids)
            .bind(&self.actor_names)
            .bind(&self.target_counts)
            .bind(&self.payloads)
            .bind(&self.leaf_hashes)
            .bind(&self.type_event_ids)
            .bind(&self.type_names)
    }
}
