//! W3C trace context (`traceparent`, `tracestate`) between kepgate's spans and the outside: a
//! trusted front proxy's trace continued, a login's trace kept with its pending row and joined
//! again by the callback and the completion, the context passed on to the cabinet and to the
//! providers. Everything here does nothing while traces are off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

static TRACES_ON: AtomicBool = AtomicBool::new(false);

/// Set once the exporter and the bridge are installed (`telemetry::init`).
pub(crate) fn turn_on() {
    TRACES_ON.store(true, Ordering::Relaxed);
}

/// Are spans exported? While they are not, no trace context is read, kept or sent.
pub fn traces_on() -> bool {
    TRACES_ON.load(Ordering::Relaxed)
}

/// A span's trace context as the headers that pass it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeaders {
    pub traceparent: String,
    /// `None`: none to send (a `tracestate` the client sent is not passed on then).
    pub tracestate: Option<String>,
}

/// The trace context of `span`, `None` with traces off.
pub fn headers_of(span: &tracing::Span) -> Option<TraceHeaders> {
    if !traces_on() {
        return None;
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if !span_context.is_valid() {
        return None;
    }
    let mut carrier = HashMap::with_capacity(2);
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    Some(TraceHeaders {
        traceparent: carrier.remove(TRACEPARENT)?,
        tracestate: carrier.remove(TRACESTATE).filter(|s| !s.is_empty()),
    })
}

/// The `traceparent` of the current span, `None` with traces off.
pub fn current_traceparent() -> Option<String> {
    headers_of(&tracing::Span::current()).map(|headers| headers.traceparent)
}

/// `span` as a child of the span `traceparent` names (a trusted front proxy's, or a login's
/// root kept with its pending row), and its `trace_id` field recorded for the log lines. With
/// no (valid) `traceparent`, `span` begins a trace of its own or stays in its parent's. Before
/// `span` is first entered: its parent is fixed from then on.
pub fn join(span: &tracing::Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    if !traces_on() {
        return;
    }
    if let Some(parent) = traceparent.and_then(|value| parse(value, tracestate)) {
        let _ = span.set_parent(parent);
    }
    let context = span.context();
    let trace_id = context.span().span_context().trace_id();
    if trace_id != TraceId::INVALID {
        span.record("trace_id", tracing::field::display(trace_id));
    }
}

/// The context a `traceparent` names; `None` for one that does not parse (the propagator's
/// rules: version, lower-case hex, no all-zero id; and here the W3C lengths, which its hex
/// parsing alone would not hold to).
fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Context> {
    let lengths = traceparent.split('-').map(str::len).take(3);
    if !lengths.eq([2, 32, 16]) {
        return None;
    }
    let mut carrier = HashMap::with_capacity(2);
    carrier.insert(TRACEPARENT.to_owned(), traceparent.to_owned());
    if let Some(state) = tracestate {
        carrier.insert(TRACESTATE.to_owned(), state.to_owned());
    }
    Some(TraceContextPropagator::new().extract(&carrier))
        .filter(|context| context.span().span_context().is_valid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_by_the_w3c_rules() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = parse(good, Some("vendor=x")).expect("a valid traceparent");
        let span_context = context.span().span_context().clone();
        assert_eq!(
            span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(span_context.is_sampled());
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse(bad, None).is_none(), "{bad:?} accepted");
        }
    }
}
