//! The imaging centre's DICOM listener (DIMSE over the upper layer, PS3.7 and PS3.8, with
//! dicom-ul): C-ECHO, C-STORE of any storage SOP class in any transfer syntax, and C-FIND on
//! the Modality Worklist. A calling AE title must be allow-listed ([`super::modality`]); the
//! association then acts as that modality's machine account, through the same store and the
//! same access check as STOW-RS.
//!
//! Bounds: at most [`ASSOCIATIONS`] associations at once (more are closed at once), a command
//! set of at most 64 KiB, a data set of at most [`super::dicom::MAX_INSTANCE_BYTES`] (a larger
//! one is read to its end, dropped and answered "out of resources"), and a read timeout, so
//! no peer can make the listener allocate without bound or hold it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, Tag, VR, dicom_value};
use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use dicom_ul::association::Association as _;
use dicom_ul::association::server::{
    AccessControl, AsyncServerAssociation, ServerAssociationOptions,
};
use dicom_ul::pdu::{
    AssociationRJServiceUserReason, PDataValue, PDataValueType, Pdu, UserIdentity,
};
use tokio::net::{TcpListener, TcpStream};

use super::dicom::MAX_INSTANCE_BYTES;
use super::{Stored, modality, mwl, order};
use crate::access::Actor;
use crate::ctx::Ctx;

type Association = AsyncServerAssociation<TcpStream>;

/// The Verification SOP class (C-ECHO).
pub const VERIFICATION: &str = "1.2.840.10008.1.1";

/// Associations served at once.
pub const ASSOCIATIONS: usize = 16;

const MAX_COMMAND_BYTES: usize = 64 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(60);

// DIMSE command fields (PS3.7 E.1).
const C_STORE_RQ: u16 = 0x0001;
const C_FIND_RQ: u16 = 0x0020;
const C_ECHO_RQ: u16 = 0x0030;
const C_CANCEL_RQ: u16 = 0x0FFF;
const RESPONSE: u16 = 0x8000;
const NO_DATA_SET: u16 = 0x0101;
const DATA_SET: u16 = 0x0000;

// Statuses (PS3.7 C, PS3.4 B.2.3, K.4.1.1.4).
const SUCCESS: u16 = 0x0000;
const PENDING: u16 = 0xFF00;
const OUT_OF_RESOURCES: u16 = 0xA700;
const CANNOT_UNDERSTAND: u16 = 0xC000;
const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
const IDENTIFIER_DOES_NOT_MATCH: u16 = 0xA900;

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Ul(#[from] dicom_ul::association::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("protocol: {0}")]
    Protocol(&'static str),
    #[error("encoding a message: {0}")]
    Encode(String),
}

/// Only allow-listed calling AE titles, and only when they call us by our title.
struct AllowListed {
    titles: HashSet<String>,
}

impl AccessControl for AllowListed {
    fn check_access(
        &self,
        this_ae_title: &str,
        calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if called_ae_title.trim() != this_ae_title {
            Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
        } else if !self.titles.contains(calling_ae_title.trim()) {
            Err(AssociationRJServiceUserReason::CallingAETitleNotRecognized)
        } else {
            Ok(())
        }
    }
}

/// Serves DICOM associations on `listener` as `ae_title` until the process ends.
pub async fn serve(listener: TcpListener, ctx: Ctx, ae_title: String) {
    let slots = Arc::new(tokio::sync::Semaphore::new(ASSOCIATIONS));
    let ae_title: Arc<str> = ae_title.into();
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "DICOM accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "DICOM association refused: {ASSOCIATIONS} are open");
            continue;
        };
        let (ctx, ae_title) = (ctx.clone(), ae_title.clone());
        tokio::spawn(async move {
            if let Err(error) = association(&ctx, socket, &ae_title).await {
                tracing::info!(%peer, %error, "DICOM association ended");
            }
            drop(slot);
        });
    }
}

async fn association(ctx: &Ctx, socket: TcpStream, ae_title: &str) -> Result<(), Error> {
    let titles = modality::titles(&ctx.db).await?;
    let options = ServerAssociationOptions::new()
        .ae_access_control(AllowListed { titles })
        .ae_title(ae_title)
        .with_abstract_syntax(VERIFICATION)
        .with_abstract_syntax(mwl::MODALITY_WORKLIST_FIND)
        // Any storage SOP class: the centre keeps whatever the modality makes.
        .promiscuous(true)
        .read_timeout(READ_TIMEOUT);
    let mut association = options.establish_async(socket).await?;
    let calling = association.peer_ae_title().trim().to_owned();
    let Some(actor) = modality::actor_of(&ctx.db, &calling).await? else {
        association.abort().await?;
        return Err(Error::Protocol(
            "the calling AE title's account is inactive",
        ));
    };
    let contexts: Vec<(u8, String, String)> = association
        .presentation_contexts()
        .iter()
        .map(|pc| {
            (
                pc.id,
                pc.abstract_syntax.clone(),
                pc.transfer_syntax.clone(),
            )
        })
        .collect();
    let mut inbox = Inbox::default();
    loop {
        let message = match inbox.next(&mut association).await? {
            Next::Message(message) => message,
            Next::Released => {
                association.send(&Pdu::ReleaseRP).await?;
                return Ok(());
            }
            Next::Aborted => return Ok(()),
        };
        let Some((_, abstract_syntax, transfer_syntax)) =
            contexts.iter().find(|(id, ..)| *id == message.context)
        else {
            association.abort().await?;
            return Err(Error::Protocol(
                "a message on no negotiated presentation context",
            ));
        };
        let field = u16_of(&message.command, tags::COMMAND_FIELD).unwrap_or_default();
        let answers = match field {
            C_ECHO_RQ => vec![(response(&message.command, SUCCESS, None), None)],
            C_STORE_RQ => vec![store(ctx, &actor, &calling, transfer_syntax, &message).await?],
            C_FIND_RQ if abstract_syntax == mwl::MODALITY_WORKLIST_FIND => {
                find(ctx, &actor, &calling, transfer_syntax, &message).await?
            }
            C_FIND_RQ => vec![(
                response(&message.command, SOP_CLASS_NOT_SUPPORTED, None),
                None,
            )],
            // A cancel after the last answer has nothing left to cancel.
            C_CANCEL_RQ => Vec::new(),
            _ => {
                association.abort().await?;
                return Err(Error::Protocol(
                    "a DIMSE command this listener does not serve",
                ));
            }
        };
        for (command, data) in answers {
            send(&mut association, message.context, command, data).await?;
        }
    }
}

/// One DIMSE message: its command set and, when it carries one, its data set.
struct Message {
    context: u8,
    command: InMemDicomObject,
    data: Data,
}

enum Data {
    None,
    Bytes(Vec<u8>),
    /// Larger than the centre takes: read to its end and dropped.
    TooLarge,
}

enum Next {
    Message(Message),
    Released,
    Aborted,
}

/// The P-DATA values received but not yet taken into a message.
#[derive(Default)]
struct Inbox {
    pending: VecDeque<PDataValue>,
}

impl Inbox {
    async fn next(&mut self, association: &mut Association) -> Result<Next, Error> {
        let mut command_bytes = Vec::new();
        let mut command: Option<(u8, InMemDicomObject)> = None;
        let mut data = Data::Bytes(Vec::new());
        loop {
            let Some(value) = self.pending.pop_front() else {
                match association.receive().await? {
                    Pdu::PData { data } => self.pending.extend(data),
                    Pdu::ReleaseRQ => return Ok(Next::Released),
                    Pdu::AbortRQ { .. } => return Ok(Next::Aborted),
                    _ => return Err(Error::Protocol("an unexpected PDU")),
                }
                continue;
            };
            match (value.value_type, &command) {
                (PDataValueType::Command, None) => {
                    if command_bytes.len() + value.data.len() > MAX_COMMAND_BYTES {
                        return Err(Error::Protocol("a command set larger than 64 KiB"));
                    }
                    command_bytes.extend_from_slice(&value.data);
                    if value.is_last {
                        let parsed = read_command(&command_bytes)?;
                        if u16_of(&parsed, tags::COMMAND_DATA_SET_TYPE) == Some(NO_DATA_SET) {
                            return Ok(Next::Message(Message {
                                context: value.presentation_context_id,
                                command: parsed,
                                data: Data::None,
                            }));
                        }
                        command = Some((value.presentation_context_id, parsed));
                    }
                }
                (PDataValueType::Data, Some(_)) => {
                    if let Data::Bytes(bytes) = &mut data {
                        if bytes.len() + value.data.len() > MAX_INSTANCE_BYTES {
                            data = Data::TooLarge;
                        } else {
                            bytes.extend_from_slice(&value.data);
                        }
                    }
                    if value.is_last {
                        let (context, command) = command.take().expect("matched Some");
                        return Ok(Next::Message(Message {
                            context,
                            command,
                            data,
                        }));
                    }
                }
                _ => return Err(Error::Protocol("a data set before its command")),
            }
        }
    }
}

fn implicit_little_endian() -> dicom_encoding::TransferSyntax {
    IMPLICIT_VR_LITTLE_ENDIAN.erased()
}

fn read_command(bytes: &[u8]) -> Result<InMemDicomObject, Error> {
    InMemDicomObject::read_dataset_with_ts(bytes, &implicit_little_endian())
        .map_err(|_| Error::Protocol("an unreadable command set"))
}

fn u16_of(object: &InMemDicomObject, tag: Tag) -> Option<u16> {
    object.get(tag)?.to_int::<u16>().ok()
}

fn string_of(object: &InMemDicomObject, tag: Tag) -> String {
    object
        .get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_owned())
        .unwrap_or_default()
}

/// A UID value, padded to even length with NUL as PS3.5 6.2 requires.
fn uid_value(uid: &str) -> PrimitiveValue {
    let mut padded = uid.to_owned();
    if padded.len() % 2 == 1 {
        padded.push('\0');
    }
    PrimitiveValue::from(padded)
}

/// The response to `request` with `status`; `comment` is the Error Comment of a failure.
fn response(request: &InMemDicomObject, status: u16, comment: Option<&str>) -> InMemDicomObject {
    let field = u16_of(request, tags::COMMAND_FIELD).unwrap_or_default() | RESPONSE;
    let message_id = u16_of(request, tags::MESSAGE_ID).unwrap_or_default();
    let mut command = InMemDicomObject::from_element_iter([
        DataElement::new(
            tags::AFFECTED_SOP_CLASS_UID,
            VR::UI,
            uid_value(&string_of(request, tags::AFFECTED_SOP_CLASS_UID)),
        ),
        DataElement::new(tags::COMMAND_FIELD, VR::US, dicom_value!(U16, [field])),
        DataElement::new(
            tags::MESSAGE_ID_BEING_RESPONDED_TO,
            VR::US,
            dicom_value!(U16, [message_id]),
        ),
        DataElement::new(
            tags::COMMAND_DATA_SET_TYPE,
            VR::US,
            dicom_value!(U16, [NO_DATA_SET]),
        ),
        DataElement::new(tags::STATUS, VR::US, dicom_value!(U16, [status])),
    ]);
    let instance = string_of(request, tags::AFFECTED_SOP_INSTANCE_UID);
    if !instance.is_empty() {
        command.put(DataElement::new(
            tags::AFFECTED_SOP_INSTANCE_UID,
            VR::UI,
            uid_value(&instance),
        ));
    }
    if let Some(comment) = comment {
        let short: String = comment.chars().filter(char::is_ascii).take(64).collect();
        command.put(DataElement::new(
            tags::ERROR_COMMENT,
            VR::LO,
            PrimitiveValue::from(short),
        ));
    }
    command
}

/// The command set in Implicit VR Little Endian with its group length first (PS3.7 6.3.1).
fn encode_command(command: &InMemDicomObject) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    command
        .write_dataset_with_ts(&mut body, &implicit_little_endian())
        .map_err(|e| Error::Encode(e.to_string()))?;
    let mut bytes = Vec::with_capacity(12 + body.len());
    bytes.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
    bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Sends one message, each part split to the peer's largest PDU.
async fn send(
    association: &mut Association,
    context: u8,
    mut command: InMemDicomObject,
    data: Option<Vec<u8>>,
) -> Result<(), Error> {
    if data.is_some() {
        command.put(DataElement::new(
            tags::COMMAND_DATA_SET_TYPE,
            VR::US,
            dicom_value!(U16, [DATA_SET]),
        ));
    }
    let limit = match association.peer_max_pdu_length() {
        0 => 16 * 1024,
        peer => (peer as usize).saturating_sub(6).max(64),
    };
    let parts = [
        (PDataValueType::Command, Some(encode_command(&command)?)),
        (PDataValueType::Data, data),
    ];
    for (value_type, bytes) in parts {
        let Some(bytes) = bytes else { continue };
        let chunks: Vec<&[u8]> = bytes.chunks(limit).collect();
        for (n, chunk) in chunks.iter().enumerate() {
            association
                .send(&Pdu::PData {
                    data: vec![PDataValue {
                        presentation_context_id: context,
                        value_type: value_type.clone(),
                        is_last: n + 1 == chunks.len(),
                        data: chunk.to_vec(),
                    }],
                })
                .await?;
        }
    }
    Ok(())
}

/// The instance as a DICOM file: preamble, file meta (PS3.10 7.1) and the data set as it came.
fn part10(
    transfer_syntax: &str,
    sop_class_uid: &str,
    sop_instance_uid: &str,
    source_ae_title: &str,
    data_set: &[u8],
) -> Result<Vec<u8>, Error> {
    let meta = dicom_object::FileMetaTableBuilder::new()
        .transfer_syntax(transfer_syntax)
        .media_storage_sop_class_uid(sop_class_uid)
        .media_storage_sop_instance_uid(sop_instance_uid)
        .source_application_entity_title(source_ae_title)
        .implementation_class_uid("2.25.229713209441530473926366712380271154317")
        .implementation_version_name("YIJIA")
        .build()
        .map_err(|e| Error::Encode(e.to_string()))?;
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    meta.write(&mut file)
        .map_err(|e| Error::Encode(e.to_string()))?;
    file.extend_from_slice(data_set);
    Ok(file)
}

type Answer = (InMemDicomObject, Option<Vec<u8>>);

/// C-STORE: the instance through the same store as STOW-RS.
async fn store(
    ctx: &Ctx,
    actor: &Actor,
    calling: &str,
    transfer_syntax: &str,
    message: &Message,
) -> Result<Answer, Error> {
    let request = &message.command;
    let bytes = match &message.data {
        Data::Bytes(bytes) => bytes,
        Data::TooLarge => {
            let reason = super::dicom::Refused::TooLarge.to_string();
            return Ok((response(request, OUT_OF_RESOURCES, Some(&reason)), None));
        }
        Data::None => {
            let reason = "a C-STORE without a data set";
            return Ok((response(request, CANNOT_UNDERSTAND, Some(reason)), None));
        }
    };
    let file = part10(
        transfer_syntax,
        &string_of(request, tags::AFFECTED_SOP_CLASS_UID),
        &string_of(request, tags::AFFECTED_SOP_INSTANCE_UID),
        calling,
        bytes,
    )?;
    let parsed = super::read_on_pool(vec![file]).await;
    let outcome = super::store_instances(ctx, crate::clock::now_ms(), actor, None, parsed)
        .await
        .map_err(|e| Error::Encode(e.to_string()));
    let (status, comment) = match outcome {
        Ok(mut outcomes) => match outcomes.pop() {
            // Held for reconciliation is taken too: the centre has it and will assign it.
            Some(Stored::Stored { .. } | Stored::Held { .. }) => (SUCCESS, None),
            Some(Stored::Failed { failure, .. }) => {
                (failure.reason_code(), Some(failure.to_string()))
            }
            None => (CANNOT_UNDERSTAND, Some("nothing was read".to_owned())),
        },
        Err(error) => {
            tracing::warn!(%error, "C-STORE failed");
            (
                OUT_OF_RESOURCES,
                Some("the store failed; send again".to_owned()),
            )
        }
    };
    Ok((response(request, status, comment.as_deref()), None))
}

/// C-FIND on the Modality Worklist: one pending answer per matching order, then success.
async fn find(
    ctx: &Ctx,
    actor: &Actor,
    calling: &str,
    transfer_syntax: &str,
    message: &Message,
) -> Result<Vec<Answer>, Error> {
    let request = &message.command;
    let Some(ts) = TransferSyntaxRegistry.get(transfer_syntax) else {
        return Ok(vec![(response(request, CANNOT_UNDERSTAND, None), None)]);
    };
    let query = match &message.data {
        Data::Bytes(bytes) => InMemDicomObject::read_dataset_with_ts(&bytes[..], ts).ok(),
        _ => None,
    };
    let Some(query) = query else {
        let reason = "an unreadable identifier";
        return Ok(vec![(
            response(request, IDENTIFIER_DOES_NOT_MATCH, Some(reason)),
            None,
        )]);
    };
    let orders = order::worklist(ctx, crate::clock::now_ms(), actor)
        .await
        .map_err(|e| Error::Encode(e.to_string()))?;
    let mut answers = Vec::new();
    for order in &orders {
        let item = mwl::item(order, calling);
        if !mwl::matches(&query, &item) {
            continue;
        }
        let mut identifier = Vec::new();
        mwl::answer(&query, &item)
            .write_dataset_with_ts(&mut identifier, ts)
            .map_err(|e| Error::Encode(e.to_string()))?;
        answers.push((response(request, PENDING, None), Some(identifier)));
    }
    answers.push((response(request, SUCCESS, None), None));
    Ok(answers)
}
