//! The audit log: every read and write of a resident's data, and every denial, recorded as who
//! (staff and institution), what, when and with which outcome.
//!
//! The log is append-only and hash-chained per community: each entry's hash is SHA-256 over the
//! previous entry's hash and its own fields, and `audit_heads` holds the newest seq and hash, so
//! [`verify`] finds any edited, deleted or reordered entry. All appends go through
//! [`store::append`], which takes the chain head's row lock first, so several server processes
//! on one PostgreSQL keep one chain. Writes append inside their own transaction; reads go
//! through [`Auditor`], which commits many readers' entries in one transaction (group commit)
//! and answers each reader only once its entry is durable.

pub mod anchor;
pub mod store;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::access::Actor;
use crate::clock::Millis;
use crate::db::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// One audit entry before it joins the chain.
#[derive(Clone, Debug)]
pub struct Entry {
    pub community_id: i64,
    pub at_ms: Millis,
    pub actor_staff_id: Option<i64>,
    pub actor_institution_id: Option<i64>,
    /// What was done, `area.verb`: `resident.read`, `resident.create`, `resident.merge` …
    pub action: String,
    /// The kind of thing it was done to: `resident`, `institution`, `staff` …
    pub resource: String,
    pub resource_id: Option<i64>,
    /// The resident whose data this was, if any.
    pub resident_id: Option<i64>,
    pub outcome: Outcome,
    /// Identifiers only, never health data.
    pub detail: String,
}

impl Entry {
    /// An entry for `actor` doing `action` to `resource` `resource_id`.
    pub fn by(
        actor: &Actor,
        now: Millis,
        action: &str,
        resource: &str,
        resource_id: Option<i64>,
    ) -> Entry {
        Entry {
            community_id: actor.community_id,
            at_ms: now,
            actor_staff_id: Some(actor.staff_id),
            actor_institution_id: actor.institution.map(|i| i.id),
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_id,
            resident_id: None,
            outcome: Outcome::Allowed,
            detail: String::new(),
        }
    }

    pub fn about_resident(mut self, resident_id: i64) -> Entry {
        self.resident_id = Some(resident_id);
        self
    }

    pub fn denied(mut self) -> Entry {
        self.outcome = Outcome::Denied;
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Entry {
        self.detail = detail.into();
        self
    }
}

/// How an action reads in the user interface.
pub fn action_label_zh(action: &str) -> &str {
    match action {
        "resident.create" => "建档",
        "chronic.enrol" | "chronic.enrolment.create" => "纳入慢病管理",
        "chronic.enrolment.read" | "chronic.enrolment.list" => "查看慢病管理",
        "chronic.enrolment.status" => "变更慢病管理状态",
        "chronic.follow_up.create" => "记录慢病随访",
        "chronic.follow_up.preview" => "慢病随访判定",
        "chronic.overdue.list" | "chronic.due.list" | "chronic.tasks.list" => "慢病随访名单",
        "chronic.call.create" => "电话随访结果",
        "chronic.thresholds.set" => "修改慢病管理阈值",
        "family_doctor.contract.sign" => "家庭医生签约",
        "family_doctor.contract.renew" => "家庭医生续约",
        "family_doctor.contract.terminate" => "家庭医生解约",
        "family_doctor.contract.read" | "family_doctor.contract.list" => "查看家庭医生签约",
        "family_doctor.team.create" => "创建家庭医生团队",
        "family_doctor.package.create" => "新增签约服务包",
        "resident.update" => "修改联系方式",
        "resident.read" => "查看档案",
        "resident.search" => "查询",
        "resident.list" => "列表中显示姓名",
        "encounter.list" => "在院患者列表",
        "resident.duplicates" => "疑似重复审核",
        "resident.merge.check" => "合并前核对",
        "resident.merge" => "合并档案",
        "resident.accesses.read" => "查看访问记录",
        "ecg.upload" | "ecg.create" => "上传心电图",
        "ecg.upload.retry" => "重传心电图",
        "ecg.read" | "ecg.waveform.read" => "查看心电图",
        "ecg.worklist" => "心电工作列表",
        "ecg.claim" => "领取心电图",
        "ecg.report.sign" | "ecg.report.signed" => "签发心电报告",
        "ecg.inbox" => "心电报告收件箱",
        "ecg.acknowledge" | "ecg.acknowledged" => "确认心电报告",
        "ecg.escalated" => "危急值未确认升级",
        "referral.create" => "发起转诊",
        "referral.green_channel" => "绿色通道转诊",
        "referral.read" => "查看转诊",
        "referral.list" => "转诊列表",
        "referral.transition" => "转诊状态变更",
        "referral.time_point" => "录入时间节点",
        "referral.down_suggestions" => "下转建议",
        "tier_catalogue.create" => "新增分级诊疗目录",
        "tier_catalogue.delete" => "删除分级诊疗目录",
        "encounter.create" => "登记就诊",
        "encounter.read" => "查看就诊",
        "encounter.discharge" => "出院结算",
        "exam_report.create" => "签发检查报告",
        "exam_report.read" => "查看检查报告",
        "lab_report.create" => "接收检验结果",
        "lab_report.read" => "查看检验报告",
        "lab_report.critical_values" => "检验危急值列表",
        "lab_report.acknowledge" | "lab_report.acknowledged" => "确认检验危急值",
        "lab_report.escalated" => "检验危急值未确认升级",
        "health_record.timeline" => "查看健康档案",
        "recognition.read" => "查看互认结果",
        "portal.issue" => "发放居民端账号",
        "claim.settle" => "医保结算",
        "claim.read" => "查看医保结算",
        "out_of_county.import" => "导入县外就医结算",
        "order.create" => "开具检查检验",
        "recognition_item.create" => "新增互认项目",
        "recognition_item.delete" => "删除互认项目",
        other => other,
    }
}

/// The hash of the chain before its first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and every field of the entry, separated by a unit separator
/// so that no two different entries serialise alike.
pub fn entry_hash(prev_hash: &str, seq: i64, entry: &Entry) -> String {
    fn opt(value: Option<i64>) -> String {
        value.map(|v| v.to_string()).unwrap_or_default()
    }
    let fields = [
        prev_hash.to_owned(),
        seq.to_string(),
        entry.community_id.to_string(),
        entry.at_ms.to_string(),
        opt(entry.actor_staff_id),
        opt(entry.actor_institution_id),
        entry.action.clone(),
        entry.resource.clone(),
        opt(entry.resource_id),
        opt(entry.resident_id),
        entry.outcome.as_str().to_owned(),
        entry.detail.clone(),
    ];
    let mut hasher = Sha256::new();
    hasher.update(fields.join("\u{1f}").as_bytes());
    hex::encode(hasher.finalize())
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the audit log could not be written: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the audit writer has stopped")]
    WriterStopped,
}

type Pending = (Vec<Entry>, oneshot::Sender<Result<(), String>>);

/// Records read entries through the group-commit writer task.
#[derive(Clone)]
pub struct Auditor {
    sender: mpsc::Sender<Pending>,
}

impl Auditor {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(db: Db) -> Auditor {
        let (sender, receiver) = mpsc::channel(4096);
        tokio::spawn(write_batches(db, receiver));
        Auditor { sender }
    }

    /// Appends entries and waits until they are committed.
    pub async fn record(&self, entries: Vec<Entry>) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        self.sender
            .send((entries, done))
            .await
            .map_err(|_| Error::WriterStopped)?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(Error::Db(sqlx::Error::Protocol(message))),
            Err(_) => Err(Error::WriterStopped),
        }
    }
}

/// The writer task: takes whatever is waiting (up to a bound), commits it in one transaction,
/// then answers every waiting reader.
async fn write_batches(db: Db, mut receiver: mpsc::Receiver<Pending>) {
    const MAX_BATCH: usize = 1024;
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let entries: Vec<Entry> = batch.iter().flat_map(|(e, _)| e.iter().cloned()).collect();
        let result = store::append_committed(&db, &entries).await;
        if let Err(error) = &result {
            tracing::error!(%error, entries = entries.len(), "audit batch failed");
        }
        for (_, done) in batch {
            let _ = done.send(result.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        }
    }
}

/// One row of a resident's access history.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccessRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub actor_staff_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_institution_id: Option<i64>,
    pub actor_institution_name: Option<String>,
    pub action: String,
    pub outcome: String,
}

/// The result of checking the chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        entries: i64,
    },
    Broken {
        community_id: i64,
        seq: i64,
        reason: String,
    },
}

/// Walks every community's chain and compares it with the chain heads and, when an anchor is
/// given, with its newest checkpoint of each community (which the chain must still hold).
pub async fn verify(db: &Db, anchor: Option<&anchor::Anchor>) -> Result<Verdict, anchor::Error> {
    let checkpoints = match anchor {
        Some(anchor) => anchor.latest()?,
        None => Default::default(),
    };
    Ok(store::verify(db, &checkpoints).await?)
}
