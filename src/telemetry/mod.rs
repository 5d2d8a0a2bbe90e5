//! Logging setup and, with `[log.traces]` on, OpenTelemetry traces of the same `tracing` spans.
//! Secrets never reach here: config types redact themselves in Debug.

mod export;

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogFormat, LogSettings};
use crate::trace_context;

/// What [`init`] installed that needs an end: the trace exporter's batch, sent at [`shutdown`].
///
/// [`shutdown`]: Telemetry::shutdown
#[must_use = "shut down at exit, or the last batch of spans is lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still waiting in the batch (bounded by the exporter's timeout). It
    /// blocks: on a thread of its own, so that an async caller's runtime is not the one blocked.
    pub fn shutdown(self) {
        let Some(traces) = self.traces else {
            return;
        };
        let ended = std::thread::spawn(move || traces.shutdown()).join();
        if let Ok(Err(e)) = ended {
            eprintln!("kepgate: the last traces were not exported: {e}");
        }
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init(settings: &LogSettings) -> Telemetry {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: the journal (the Debian package's unit), a
    // container's log or a file would keep the escape codes as text.
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let lines: BoxedLayer = match settings.format {
        LogFormat::Text => lines.with_filter(filter).boxed(),
        LogFormat::Json => lines.json().flatten_event(true).with_filter(filter).boxed(),
    };
    let mut layers = vec![lines];
    let traces = if settings.traces.enabled {
        match export::tracer_provider(&settings.traces) {
            Ok(provider) => Some(provider),
            Err(e) => {
                eprintln!("kepgate: traces are not exported: {e:#}");
                None
            }
        }
    } else {
        None
    };
    if let Some(provider) = &traces {
        // kepgate's own spans only, whatever the log filter says: the log level is about
        // lines, not about which spans a trace has.
        let own = Targets::new()
            .with_target("kepgate", Level::INFO)
            .with_target("kepgate_signature", Level::INFO);
        let bridge = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("kepgate"))
            // No busy/idle times: they read the clock at every poll of every span's future
            // (a streamed response polls its request's span per chunk).
            .with_tracked_inactivity(false)
            .with_threads(false)
            .with_location(false)
            // Spans only: a log event's fields (a phone's address, a certificate's serial, a
            // refused РНОКПП) are for the log's readers, and the collector's are usually more.
            .with_counting_event_filter(tracing_subscriber::filter::filter_fn(|_| false))
            .with_filter(own);
        layers.push(bridge.boxed());
    }
    let installed = tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_ok();
    if installed && traces.is_some() {
        trace_context::turn_on();
    }
    Telemetry {
        traces: traces.filter(|_| installed),
    }
}
