//! A `tracing` subscriber that records jetbase's events, with the fields of the span each
//! happened in, for the tests of what a run tells the application's logs.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One recorded event.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub target: String,
    pub level: tracing::Level,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    /// The innermost span's name and fields, if the event happened in one.
    pub span: Option<(String, BTreeMap<String, String>)>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    pub fn span_field(&self, name: &str) -> Option<&str> {
        self.span
            .as_ref()
            .and_then(|(_, fields)| fields.get(name))
            .map(String::as_str)
    }

    pub fn span_name(&self) -> Option<&str> {
        self.span.as_ref().map(|(name, _)| name.as_str())
    }
}

/// The events recorded so far (jetbase's only: target `jetbase`).
#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// Runs `future` with this recorder as its subscriber (wherever it is polled), at every
    /// level.
    pub async fn record<T>(&self, future: impl IntoFuture<Output = T>) -> T {
        let subscriber = tracing_subscriber::registry().with(self.clone());
        future.into_future().with_subscriber(subscriber).await
    }

    /// Takes the events recorded so far.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> Layer<S> for Recorder
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, context: Context<'_, S>) {
        if let Some(span) = context.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, context: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() != "jetbase" {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let span = context.event_span(event).map(|span| {
            let fields = span
                .extensions()
                .get::<Fields>()
                .map(|fields| fields.0.clone())
                .unwrap_or_default();
            (span.name().to_owned(), fields)
        });
        self.events.lock().unwrap().push(Recorded {
            target: metadata.target().to_owned(),
            level: *metadata.level(),
            message,
            fields: fields.0,
            span,
        });
    }
}
