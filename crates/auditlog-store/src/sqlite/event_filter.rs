//! The event filter shared by exports and list pages, as SQL text plus its parameters: one
//! definition serves the sqlx queries and the export's direct read (`raw_readers`).

use crate::types::ExportQuery;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Sqlite};

pub(super) enum SqlValue {
    Int(i64),
    Text(String),
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            SqlValue::Int(value) => value.to_sql(),
            SqlValue::Text(value) => value.to_sql(),
        }
    }
}

/// A `SELECT … FROM events e WHERE …` being built, with `?` placeholders in order.
pub(super) struct EventQuery {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl EventQuery {
    /// `select` names the columns and `FROM events e`; `filters` adds the `WHERE` clause.
    pub fn new(select: &str) -> EventQuery {
        EventQuery {
            sql: select.to_string(),
            params: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    pub fn bind(&mut self, value: SqlValue) -> &mut Self {
        self.sql.push('?');
        self.params.push(value);
        self
    }

    fn in_list(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        self.push(&format!(" AND {column} IN ("));
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(SqlValue::Text(value.clone()));
        }
        self.push(")");
    }

    /// The `WHERE` clause of an export or list query. The range, the organization and the
    /// keyset use the `events_by_time` index; the other filters narrow it.
    pub fn filters(&mut self, query: &ExportQuery) -> &mut Self {
        let filters = &query.filters;
        self.push(" WHERE e.organization_id = ")
            .bind(SqlValue::Text(query.organization_id.clone()))
            .push(" AND e.environment = ")
            .bind(SqlValue::Text(query.environment.clone()))
            .push(" AND e.occurred_at >= ")
            .bind(SqlValue::Int(filters.range_start))
            .push(" AND e.occurred_at < ")
            .bind(SqlValue::Int(filters.range_end))
            .push(" AND e.payload IS NOT NULL");
        if let Some(max_sequence) = filters.max_sequence {
            self.push(" AND e.sequence <= ")
                .bind(SqlValue::Int(max_sequence));
        }
        self.in_list("e.action", &filters.actions);
        self.in_list("e.actor_id", &filters.actor_ids);
        self.in_list("e.actor_name", &filters.actor_names);
        if !filters.targets.is_empty() {
            self.push(
                " AND EXISTS (SELECT 1 FROM event_target_types t WHERE t.event_row_id = e.row_id",
            );
            self.in_list("t.target_type", &filters.targets);
            self.push(")");
        }
        self
    }

    /// The filters of one keyset page: rows after (or, descending, before) the cursor in
    /// (occurred_at, id) order, with the time range narrowed to the cursor (`seek_from`).
    pub fn page(
        &mut self,
        query: &ExportQuery,
        after: Option<&(i64, String)>,
        ascending: bool,
    ) -> &mut Self {
        self.filters(&seek_from(query, after, ascending));
        if let Some((occurred_at, id)) = after {
            let comparison = if ascending { ">" } else { "<" };
            self.push(&format!(" AND (e.occurred_at, e.id) {comparison} ("))
                .bind(SqlValue::Int(*occurred_at))
                .push(", ")
                .bind(SqlValue::Text(id.clone()))
                .push(")");
        }
        self
    }

    /// The query for sqlx, with its parameters bound.
    pub fn sqlx(&self) -> sqlx::query::Query<'static, Sqlite, SqliteArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.sql.clone()));
        for value in &self.params {
            query = match value {
                SqlValue::Int(value) => query.bind(*value),
                SqlValue::Text(value) => query.bind(value.clone()),
            };
        }
        query
    }
}

/// The query with its time range narrowed to start at a keyset cursor.
///
/// SQLite does not seek an index with a row-value bound when the same column also has plain
/// bounds: beside `occurred_at >= range_start`, `(occurred_at, id) > (…)` is only a filter, so
/// every page starts at the range's edge and filters its way to the cursor (page k reads k
/// pages of index: quadratic exports, deep list pages linear in their depth). Every row past
/// the cursor has `occurred_at` on the cursor's side of it, so moving the range's edge there
/// selects the same rows and makes each page start where the last one ended.
fn seek_from(query: &ExportQuery, after: Option<&(i64, String)>, ascending: bool) -> ExportQuery {
    let mut narrowed = query.clone();
    if let Some((occurred_at, _)) = after {
        let filters = &mut narrowed.filters;
        if ascending {
            filters.range_start = filters.range_start.max(*occurred_at);
        } else {
            // range_end is exclusive; the cursor's own timestamp must stay in range for the
            // rows with the same occurred_at and a smaller id.
            filters.range_end = filters.range_end.min(occurred_at.saturating_add(1));
        }
    }
    narrowed
}
