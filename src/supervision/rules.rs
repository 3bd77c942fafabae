//! The encounter rules of the medical-insurance rule library (《医疗保障基金智能审核和监控知识库、
//! 规则库管理办法》) and the institution indicators watched beside them, as data: each rule's
//! code, official name, result type and parameters, with the national defaults a county may
//! change. No I/O here: the caller gives each resident's encounters, and a rule gives back its
//! hits with their evidence (the indicators are in `indicators`).

use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum RuleCode {
    R01,
    R02,
    R03,
    R04,
    R05,
    R06,
    R12,
    K01,
    K02,
    K03,
    K04,
    K05,
    K07,
}

text_enum!(RuleCode { R01 => "R01", R02 => "R02", R03 => "R03", R04 => "R04", R05 => "R05", R06 => "R06", R12 => "R12", K01 => "K01", K02 => "K02", K03 => "K03", K04 => "K04", K05 => "K05", K07 => "K07" });

/// 明确违规 or 可疑.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Definite,
    Suspect,
}

text_enum!(Finding { Definite => "definite", Suspect => "suspect" });

impl RuleCode {
    pub const ALL: [RuleCode; 13] = [
        RuleCode::R01,
        RuleCode::R02,
        RuleCode::R03,
        RuleCode::R04,
        RuleCode::R05,
        RuleCode::R06,
        RuleCode::R12,
        RuleCode::K01,
        RuleCode::K02,
        RuleCode::K03,
        RuleCode::K04,
        RuleCode::K05,
        RuleCode::K07,
    ];

    /// An institution indicator (monthly, against peers), not an encounter rule.
    pub fn is_indicator(self) -> bool {
        self.as_str().starts_with('K')
    }

    /// The rule's official name.
    pub fn name_zh(self) -> &'static str {
        match self {
            RuleCode::R01 => "分解住院",
            RuleCode::R02 => "频繁住院",
            RuleCode::R03 => "低标准入院",
            RuleCode::R04 => "住院期间门诊就诊（挂床）",
            RuleCode::R05 => "诊断与患者性别不符",
            RuleCode::R06 => "诊断与患者年龄不符",
            RuleCode::R12 => "频繁门诊",
            RuleCode::K01 => "住院率异常（小病大治）",
            RuleCode::K02 => "次均费用增幅超标",
            RuleCode::K03 => "费用结构异常",
            RuleCode::K04 => "低标准入院率异常",
            RuleCode::K05 => "31天非计划再住院率异常",
            RuleCode::K07 => "病种费用离群",
        }
    }

    /// The unit of an indicator's value.
    pub fn unit(self) -> &'static str {
        if self == RuleCode::K07 { "元" } else { "%" }
    }

    pub fn finding(self) -> Finding {
        match self {
            RuleCode::R05 => Finding::Definite,
            _ => Finding::Suspect,
        }
    }
}

/// Every rule's parameters; the defaults are the national ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Parameters {
    /// R01: a readmission at the same institution within this many days of the discharge, with
    /// the principal diagnosis in the same ICD-10 category, not a planned episode.
    pub split_admission_days: i64,
    /// R01: principal diagnoses of planned episodes (chemotherapy, radiotherapy, dialysis,
    /// rehabilitation), by code prefix.
    pub planned_episode_codes: Vec<String>,
    /// R02: this many admissions of one resident within `frequent_admission_days`.
    pub frequent_admissions: usize,
    pub frequent_admission_days: i64,
    /// R03: a stay of at most this many days and one of: total below `low_threshold_total_fen`,
    /// examinations and tests above `low_threshold_examination_pct` of the total, drugs above
    /// `low_threshold_drug_pct`, a principal diagnosis on `outpatient_treatable_codes`.
    pub low_threshold_stay_days: i64,
    pub low_threshold_total_fen: i64,
    pub low_threshold_examination_pct: i64,
    pub low_threshold_drug_pct: i64,
    pub outpatient_treatable_codes: Vec<String>,
    /// R06: pregnancy codes (O) below or above these ages; perinatal codes (P) above this age.
    pub obstetric_min_age: i32,
    pub obstetric_max_age: i32,
    pub perinatal_max_age: i32,
    /// R12: more than this many outpatient visits of one resident at one institution within
    /// `frequent_outpatient_days`.
    pub frequent_outpatient_visits: usize,
    pub frequent_outpatient_days: i64,
    /// K01–K05: an institution's month is compared when it has at least this many cases (visits
    /// or admissions, whichever the indicator divides by), with at least `min_peers` peers (the
    /// other members of its level) that have as many.
    pub indicator_min_cases: i64,
    pub min_peers: usize,
    /// K01, K03–K05: above the peers' 90th percentile by more than this share of it, so that the
    /// highest of a few similar institutions is not called out every month.
    pub peer_excess_pct: i64,
    /// K01: or up by more than this on the previous month (while above the peers' median).
    pub admission_rate_rise_pct: i64,
    /// K02: the county's target for the year-on-year growth of cost per visit and per stay.
    pub cost_growth_target_pct: i64,
    /// K05: a readmission within this many days of a discharge from the same institution.
    pub readmission_days: i64,
    /// K07: a stay whose modified z-score of cost within its ICD-10 category and level, in the
    /// month, is above this; with at least `indicator_min_cases` stays to compare.
    pub outlier_z: f64,
}

impl Default for Parameters {
    fn default() -> Parameters {
        let codes = |list: &[&str]| list.iter().map(|c| (*c).to_owned()).collect();
        Parameters {
            split_admission_days: 15,
            planned_episode_codes: codes(&["Z51.0", "Z51.1", "Z49", "Z50"]),
            frequent_admissions: 3,
            frequent_admission_days: 90,
            low_threshold_stay_days: 2,
            low_threshold_total_fen: 200_000,
            low_threshold_examination_pct: 70,
            low_threshold_drug_pct: 85,
            outpatient_treatable_codes: codes(&["J00", "J06", "A09", "K29", "R51", "M54"]),
            obstetric_min_age: 10,
            obstetric_max_age: 60,
            perinatal_max_age: 1,
            frequent_outpatient_visits: 8,
            frequent_outpatient_days: 30,
            indicator_min_cases: 20,
            min_peers: 2,
            peer_excess_pct: 10,
            admission_rate_rise_pct: 20,
            cost_growth_target_pct: 5,
            readmission_days: 31,
            outlier_z: 3.5,
        }
    }
}

/// An encounter as the rules read it.
#[derive(Clone, Debug)]
pub struct Encounter {
    pub id: i64,
    pub resident_id: i64,
    pub institution_id: i64,
    pub inpatient: bool,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    /// Opened from a referral (a transfer, not a readmission).
    pub referred: bool,
    /// The diagnoses, the principal first.
    pub diagnoses: Vec<String>,
    pub total_fen: i64,
    pub drugs_fen: i64,
    /// Examinations and tests.
    pub examinations_fen: i64,
    /// The resident's sex (`female` / `male`) and age at the encounter.
    pub female: bool,
    pub age: i32,
}

impl Encounter {
    pub(super) fn principal(&self) -> Option<&str> {
        self.diagnoses.first().map(String::as_str)
    }

    pub(super) fn category(&self) -> Option<&str> {
        self.principal().and_then(|code| code.get(..3))
    }
}

/// A rule's hit: the institution it concerns, the evidence encounters (by id, ascending), the
/// amount involved in fen and what was found; an indicator's hit has no resident, is keyed by
/// its institution, month and measure, and compares the institution with its peers.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub rule: RuleCode,
    pub institution_id: i64,
    pub resident_id: Option<i64>,
    pub encounters: Vec<i64>,
    /// What makes the hit the same one on a re-run: the evidence encounters when absent.
    pub key: Option<String>,
    pub comparison: Option<Comparison>,
    pub amount_fen: i64,
    /// Of the last evidence encounter (an indicator's: the start of its month).
    pub at_ms: i64,
    pub detail: String,
}

/// An institution's value of an indicator beside its peers', in the indicator's unit.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub value: f64,
    pub peer_median: f64,
    pub peer_p90: f64,
    pub peers: i64,
}

impl Hit {
    pub fn evidence_key(&self) -> String {
        self.key
            .clone()
            .unwrap_or_else(|| join_ids(&self.encounters))
    }
}

pub fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn has_prefix(codes: &[String], code: &str) -> bool {
    codes.iter().any(|prefix| code.starts_with(prefix.as_str()))
}

fn hit(rule: RuleCode, evidence: &[&Encounter], amount_fen: i64, detail: String) -> Hit {
    let mut encounters: Vec<i64> = evidence.iter().map(|e| e.id).collect();
    encounters.sort_unstable();
    let last = evidence
        .iter()
        .max_by_key(|e| e.started_at_ms)
        .expect("evidence");
    Hit {
        rule,
        institution_id: last.institution_id,
        resident_id: Some(last.resident_id),
        encounters,
        key: None,
        comparison: None,
        amount_fen,
        at_ms: last.started_at_ms,
        detail,
    }
}

/// Every enabled rule's hits over one resident's encounters (any order).
pub fn check_resident(encounters: &[Encounter], enabled: &[RuleCode], p: &Parameters) -> Vec<Hit> {
    let mut sorted: Vec<&Encounter> = encounters.iter().collect();
    sorted.sort_by_key(|e| (e.started_at_ms, e.id));
    let mut hits = Vec::new();
    for rule in enabled {
        match rule {
            RuleCode::R01 => split_admissions(&sorted, p, &mut hits),
            RuleCode::R02 => frequent(&sorted, RuleCode::R02, p, &mut hits),
            RuleCode::R03 => low_threshold(&sorted, p, &mut hits),
            RuleCode::R04 => outpatient_during_stay(&sorted, &mut hits),
            RuleCode::R05 => sex_mismatch(&sorted, &mut hits),
            RuleCode::R06 => age_mismatch(&sorted, p, &mut hits),
            RuleCode::R12 => frequent(&sorted, RuleCode::R12, p, &mut hits),
            _ => {}
        }
    }
    hits
}

fn split_admissions(sorted: &[&Encounter], p: &Parameters, hits: &mut Vec<Hit>) {
    let stays: Vec<&&Encounter> = sorted.iter().filter(|e| e.inpatient).collect();
    let planned = |e: &Encounter| is_planned(e, p);
    for pair in stays.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        let Some(discharged) = before.ended_at_ms else {
            continue;
        };
        // Calendar days (China Standard Time) from the discharge to the next admission.
        let gap = (crate::clock::date_cst(after.started_at_ms)
            - crate::clock::date_cst(discharged))
        .whole_days();
        let same = before.institution_id == after.institution_id
            && before.category().is_some()
            && before.category() == after.category();
        if same
            && (0..=p.split_admission_days).contains(&gap)
            && !after.referred
            && !planned(before)
            && !planned(after)
        {
            hits.push(hit(
                RuleCode::R01,
                &[before, after],
                after.total_fen,
                format!(
                    "出院后 {gap} 天再次入院，主要诊断同属 {}",
                    after.category().unwrap_or_default()
                ),
            ));
        }
    }
}

/// R02 (admissions of a resident anywhere) and R12 (outpatient visits at one institution): a
/// window from each visit not yet in a hit, with enough visits in it, is one hit.
fn frequent(sorted: &[&Encounter], rule: RuleCode, p: &Parameters, hits: &mut Vec<Hit>) {
    let (days, at_least) = match rule {
        RuleCode::R02 => (p.frequent_admission_days, p.frequent_admissions),
        _ => (p.frequent_outpatient_days, p.frequent_outpatient_visits + 1),
    };
    let mut groups: Vec<Vec<&Encounter>> = Vec::new();
    if rule == RuleCode::R02 {
        groups.push(sorted.iter().copied().filter(|e| e.inpatient).collect());
    } else {
        let mut by_institution: Vec<i64> = sorted.iter().map(|e| e.institution_id).collect();
        by_institution.sort_unstable();
        by_institution.dedup();
        for institution in by_institution {
            groups.push(
                sorted
                    .iter()
                    .copied()
                    .filter(|e| !e.inpatient && e.institution_id == institution)
                    .collect(),
            );
        }
    }
    for visits in groups {
        let mut start = 0;
        while start < visits.len() {
            let until = visits[start].started_at_ms + days * DAY_MS;
            let window: Vec<&Encounter> = visits[start..]
                .iter()
                .copied()
                .take_while(|e| e.started_at_ms < until)
                .collect();
            if window.len() >= at_least {
                let amount = window.iter().map(|e| e.total_fen).sum();
                let what = if rule == RuleCode::R02 {
                    "住院"
                } else {
                    "门诊"
                };
                hits.push(hit(
                    rule,
                    &window,
                    amount,
                    format!("{days} 天内{what} {} 次", window.len()),
                ));
                start += window.len();
            } else {
                start += 1;
            }
        }
    }
}

fn low_threshold(sorted: &[&Encounter], p: &Parameters, hits: &mut Vec<Hit>) {
    for stay in sorted.iter().filter(|e| e.inpatient) {
        if let Some(why) = low_threshold_reason(stay, p) {
            hits.push(hit(
                RuleCode::R03,
                &[stay],
                stay.total_fen,
                format!("住院不超过 {} 天，{why}", p.low_threshold_stay_days),
            ));
        }
    }
}

/// A planned episode (chemotherapy, radiotherapy, dialysis, rehabilitation): never a
/// readmission.
pub(super) fn is_planned(stay: &Encounter, p: &Parameters) -> bool {
    stay.principal()
        .is_some_and(|c| has_prefix(&p.planned_episode_codes, c))
}

/// Why a stay is a low-threshold admission (R03), if it is one.
pub(super) fn low_threshold_reason(stay: &Encounter, p: &Parameters) -> Option<String> {
    let ended = stay.ended_at_ms?;
    if !stay.inpatient || ended - stay.started_at_ms > p.low_threshold_stay_days * DAY_MS {
        return None;
    }
    let share = |part: i64| {
        if stay.total_fen > 0 {
            part * 100 / stay.total_fen
        } else {
            0
        }
    };
    if stay.total_fen < p.low_threshold_total_fen {
        Some(format!(
            "住院总费用 {:.2} 元",
            stay.total_fen as f64 / 100.0
        ))
    } else if share(stay.examinations_fen) > p.low_threshold_examination_pct {
        Some(format!("检查检验费占 {}%", share(stay.examinations_fen)))
    } else if share(stay.drugs_fen) > p.low_threshold_drug_pct {
        Some(format!("药品费占 {}%", share(stay.drugs_fen)))
    } else {
        stay.principal()
            .filter(|c| has_prefix(&p.outpatient_treatable_codes, c))
            .map(|code| format!("主要诊断 {code} 可门诊治疗"))
    }
}

fn outpatient_during_stay(sorted: &[&Encounter], hits: &mut Vec<Hit>) {
    for stay in sorted.iter().filter(|e| e.inpatient) {
        let Some(ended) = stay.ended_at_ms else {
            continue;
        };
        for visit in sorted.iter().filter(|e| {
            !e.inpatient
                && e.institution_id != stay.institution_id
                && e.started_at_ms > stay.started_at_ms
                && e.started_at_ms < ended
        }) {
            let mut found = hit(
                RuleCode::R04,
                &[stay, visit],
                stay.total_fen,
                "住院期间在其他机构门诊就诊".to_owned(),
            );
            // The stay is where the patient was said to be.
            found.institution_id = stay.institution_id;
            hits.push(found);
        }
    }
}

/// Codes only one sex can have: (prefix ranges, female).
fn sex_of_code(code: &str) -> Option<bool> {
    let in_range = |low: &str, high: &str| {
        let stem = code.get(..3).unwrap_or(code);
        stem >= low && stem <= high
    };
    if code.starts_with('O') || in_range("N70", "N98") || in_range("C51", "C58") {
        Some(true)
    } else if in_range("N40", "N51") || in_range("C60", "C63") {
        Some(false)
    } else {
        None
    }
}

fn sex_mismatch(sorted: &[&Encounter], hits: &mut Vec<Hit>) {
    for e in sorted {
        if let Some(code) = e
            .diagnoses
            .iter()
            .find(|c| sex_of_code(c).is_some_and(|female| female != e.female))
        {
            let sex = if e.female { "女" } else { "男" };
            hits.push(hit(
                RuleCode::R05,
                &[e],
                e.total_fen,
                format!("诊断 {code} 与患者性别（{sex}）不符"),
            ));
        }
    }
}

fn age_mismatch(sorted: &[&Encounter], p: &Parameters, hits: &mut Vec<Hit>) {
    for e in sorted {
        let wrong = e.diagnoses.iter().find(|c| {
            (c.starts_with('O') && (e.age < p.obstetric_min_age || e.age > p.obstetric_max_age))
                || (c.starts_with('P') && e.age > p.perinatal_max_age)
        });
        if let Some(code) = wrong {
            hits.push(hit(
                RuleCode::R06,
                &[e],
                e.total_fen,
                format!("诊断 {code} 与患者年龄（{} 岁）不符", e.age),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(id: i64, day: i64, days: i64, code: &str) -> Encounter {
        Encounter {
            id,
            resident_id: 1,
            institution_id: 10,
            inpatient: true,
            started_at_ms: day * DAY_MS,
            ended_at_ms: Some((day + days) * DAY_MS),
            referred: false,
            diagnoses: vec![code.to_owned()],
            total_fen: 500_000,
            drugs_fen: 100_000,
            examinations_fen: 100_000,
            female: false,
            age: 50,
        }
    }

    fn rules(encounters: &[Encounter], rule: RuleCode) -> Vec<Hit> {
        check_resident(encounters, &[rule], &Parameters::default())
    }

    #[test]
    fn a_readmission_within_fifteen_days_in_the_same_category_is_split() {
        let fifteen = [stay(1, 0, 5, "J18.9"), stay(2, 20, 5, "J18.0")];
        assert_eq!(rules(&fifteen, RuleCode::R01)[0].encounters, [1, 2]);
        let sixteen = [stay(1, 0, 5, "J18.9"), stay(2, 21, 5, "J18.0")];
        assert!(rules(&sixteen, RuleCode::R01).is_empty());
        let chemo = [stay(1, 0, 5, "Z51.1"), stay(2, 10, 5, "Z51.1")];
        assert!(rules(&chemo, RuleCode::R01).is_empty());
        let other = [stay(1, 0, 5, "J18.9"), stay(2, 10, 5, "I10")];
        assert!(rules(&other, RuleCode::R01).is_empty());
    }

    #[test]
    fn sex_and_age_mismatches() {
        let mut e = stay(1, 0, 5, "N40");
        e.female = true;
        assert_eq!(rules(&[e.clone()], RuleCode::R05).len(), 1);
        e.female = false;
        assert!(rules(&[e], RuleCode::R05).is_empty());
        let mut birth = stay(2, 0, 3, "O80");
        birth.female = true;
        birth.age = 61;
        assert_eq!(rules(&[birth.clone()], RuleCode::R06).len(), 1);
        birth.age = 60;
        assert!(rules(&[birth], RuleCode::R06).is_empty());
    }
}
