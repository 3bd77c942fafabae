//! Live updates pushed to open screens as server-sent events. An event carries identifiers
//! only (never health data): the page that receives it fetches what changed through the
//! ordinary, access-checked routes.

use std::convert::Infallible;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, future};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::access::Actor;
use crate::institution::model::CentreService;

/// Who should hear about an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "to", content = "institution_id")]
pub enum Audience {
    /// The community's readers (the shared reading centres).
    Readers,
    /// The staff of one institution (a site waiting for its report, a receiving department).
    Institution(i64),
    /// The group's insurance and quality office (insurance officers and supervisors).
    Office,
}

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    #[serde(skip)]
    pub community_id: i64,
    #[serde(skip)]
    pub audience: Audience,
    /// `ecg.uploaded`, `ecg.claimed`, `ecg.reported`, `ecg.acknowledged`, `supervision.alert` …
    pub kind: &'static str,
    pub id: i64,
}

impl Event {
    fn is_for(&self, actor: &Actor) -> bool {
        actor.community_id == self.community_id
            && match self.audience {
                Audience::Readers => actor.reads_for(CentreService::Ecg),
                Audience::Institution(id) => actor.institution.is_some_and(|i| i.id == id),
                Audience::Office => crate::access::is_office(actor),
            }
    }
}

#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Event>,
}

impl Default for Hub {
    fn default() -> Hub {
        Hub {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl Hub {
    /// Sends to whoever listens now; nobody listening is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// The events for one actor, as an SSE response.
    pub fn stream(
        &self,
        actor: Actor,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
        let stream = BroadcastStream::new(self.sender.subscribe()).filter_map(move |item| {
            let event = match item {
                Ok(event) if event.is_for(&actor) => Some(
                    SseEvent::default()
                        .event(event.kind)
                        .data(serde_json::to_string(&event).unwrap_or_default()),
                ),
                Ok(_) => None,
                // A slow screen missed some events: it should refresh everything.
                Err(BroadcastStreamRecvError::Lagged(_)) => {
                    Some(SseEvent::default().event("refresh").data("{}"))
                }
            };
            future::ready(event.map(Ok))
        });
        Sse::new(stream).keep_alive(KeepAlive::default())
    }
}
