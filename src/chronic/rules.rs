//! The follow-up decision of 《国家基本公共卫生服务规范（第三版）》 for hypertension and type 2
//! diabetes, in the order the form is filled: emergency referral criteria first, then the
//! classification (1 控制满意 · 2 控制不满意 · 3 不良反应 · 4 并发症), then the next step
//! (1 常规随访 · 2 两周随访 · 3 转诊随访 · 4 紧急转诊) and the next due date, each with its reasons.
//! Every threshold is in [`Thresholds`], whose defaults are the national ones; a county may set
//! its own. No I/O here: the caller gives the reading and the previous classification.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    Hypertension,
    Diabetes,
}

text_enum!(Program { Hypertension => "hypertension", Diabetes => "diabetes" });

impl Program {
    pub const ALL: [Program; 2] = [Program::Hypertension, Program::Diabetes];

    pub fn label_zh(self) -> &'static str {
        match self {
            Program::Hypertension => "高血压",
            Program::Diabetes => "2型糖尿病",
        }
    }

    /// The diagnosis a referral from the programme carries.
    pub fn icd10(self) -> &'static str {
        match self {
            Program::Hypertension => "I10",
            Program::Diabetes => "E11.9",
        }
    }
}

/// Symptoms on the form that are emergency criteria by themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Symptom {
    AlteredConsciousness,
    SevereHeadacheOrDizziness,
    NauseaVomiting,
    BlurredVision,
    EyePain,
    Palpitations,
    ChestTightness,
    BreathlessLyingFlat,
    PregnancyOrLactation,
    AcetoneBreath,
    Sweating,
    PolydipsiaPolyuria,
    AbdominalPain,
    DeepFastBreathing,
    FeverOver39,
    SuddenVisionLoss,
    /// Another condition the clinic cannot handle.
    BeyondTheClinic,
}

text_enum!(Symptom { AlteredConsciousness => "altered_consciousness", SevereHeadacheOrDizziness => "severe_headache_or_dizziness", NauseaVomiting => "nausea_vomiting", BlurredVision => "blurred_vision", EyePain => "eye_pain", Palpitations => "palpitations", ChestTightness => "chest_tightness", BreathlessLyingFlat => "breathless_lying_flat", PregnancyOrLactation => "pregnancy_or_lactation", AcetoneBreath => "acetone_breath", Sweating => "sweating", PolydipsiaPolyuria => "polydipsia_polyuria", AbdominalPain => "abdominal_pain", DeepFastBreathing => "deep_fast_breathing", FeverOver39 => "fever_over39", SuddenVisionLoss => "sudden_vision_loss", BeyondTheClinic => "beyond_the_clinic" });

impl Symptom {
    pub const ALL: [Symptom; 17] = [
        Symptom::AlteredConsciousness,
        Symptom::SevereHeadacheOrDizziness,
        Symptom::NauseaVomiting,
        Symptom::BlurredVision,
        Symptom::EyePain,
        Symptom::Palpitations,
        Symptom::ChestTightness,
        Symptom::BreathlessLyingFlat,
        Symptom::PregnancyOrLactation,
        Symptom::AcetoneBreath,
        Symptom::Sweating,
        Symptom::PolydipsiaPolyuria,
        Symptom::AbdominalPain,
        Symptom::DeepFastBreathing,
        Symptom::FeverOver39,
        Symptom::SuddenVisionLoss,
        Symptom::BeyondTheClinic,
    ];

    /// Whether the symptom calls for an emergency referral in the programme.
    fn urgent_in(self, program: Program) -> bool {
        use Symptom::*;
        match program {
            Program::Hypertension => matches!(
                self,
                AlteredConsciousness
                    | SevereHeadacheOrDizziness
                    | NauseaVomiting
                    | BlurredVision
                    | EyePain
                    | Palpitations
                    | ChestTightness
                    | BreathlessLyingFlat
                    | PregnancyOrLactation
                    | BeyondTheClinic
            ),
            Program::Diabetes => matches!(
                self,
                AlteredConsciousness
                    | AcetoneBreath
                    | Palpitations
                    | Sweating
                    | NauseaVomiting
                    | PolydipsiaPolyuria
                    | AbdominalPain
                    | DeepFastBreathing
                    | FeverOver39
                    | SuddenVisionLoss
                    | PregnancyOrLactation
                    | BeyondTheClinic
            ),
        }
    }

    pub fn label_zh(self) -> &'static str {
        use Symptom::*;
        match self {
            AlteredConsciousness => "意识改变",
            SevereHeadacheOrDizziness => "剧烈头痛或头晕",
            NauseaVomiting => "恶心呕吐",
            BlurredVision => "视力模糊",
            EyePain => "眼痛",
            Palpitations => "心悸",
            ChestTightness => "胸闷",
            BreathlessLyingFlat => "喘憋不能平卧",
            PregnancyOrLactation => "妊娠或哺乳期",
            AcetoneBreath => "呼气有烂苹果样丙酮味",
            Sweating => "多汗",
            PolydipsiaPolyuria => "多饮多尿",
            AbdominalPain => "腹痛",
            DeepFastBreathing => "深大呼吸、皮肤潮红",
            FeverOver39 => "体温超过 39 ℃",
            SuddenVisionLoss => "视力骤降",
            BeyondTheClinic => "其他本机构无法处理的情况",
        }
    }
}

/// The thresholds of the registry and the decision; the defaults are the national rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// The youngest age the programmes manage.
    pub min_age: i32,
    /// Emergency: SBP at or above, or DBP at or above (mmHg).
    pub emergency_sbp: f64,
    pub emergency_dbp: f64,
    /// Emergency for diabetes: glucose at or above, or at or below (mmol/L).
    pub emergency_glucose_high: f64,
    pub emergency_glucose_low: f64,
    /// Emergency for diabetes: a heart rate above this (beats a minute).
    pub emergency_heart_rate: f64,
    /// At target: SBP below and DBP below (mmHg); from `elderly_age` the elderly targets.
    pub target_sbp: f64,
    pub target_dbp: f64,
    pub elderly_age: i32,
    pub elderly_target_sbp: f64,
    pub elderly_target_dbp: f64,
    /// At target for diabetes: FPG below (mmol/L).
    pub target_fpg: f64,
    /// Face-to-face follow-ups a year for management by the rules (规范管理).
    pub visits_per_year: i64,
    /// Days to the next follow-up: routine, and the two-week re-check (also after a referral).
    pub routine_days: i64,
    pub recheck_days: i64,
    /// Screening: a reading is raised at SBP or DBP at or above these (mmHg).
    pub screening_sbp: f64,
    pub screening_dbp: f64,
    /// Screening: raised on this many different days makes a suspected hypertension.
    pub confirm_raised_days: i64,
    /// Screening: days to the re-check after a raised reading.
    pub screening_recheck_days: i64,
    /// Screening: days between measurements, and for the high-risk.
    pub screening_days: i64,
    pub high_risk_screening_days: i64,
    /// High risk: normal-high pressure from these (mmHg), BMI from this, waist from these
    /// (cm, men and women), age from this.
    pub high_risk_sbp: f64,
    pub high_risk_dbp: f64,
    pub high_risk_bmi: f64,
    pub high_risk_waist_men_cm: f64,
    pub high_risk_waist_women_cm: f64,
    pub high_risk_age: i32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            min_age: 35,
            emergency_sbp: 180.0,
            emergency_dbp: 110.0,
            emergency_glucose_high: 16.7,
            emergency_glucose_low: 3.9,
            emergency_heart_rate: 100.0,
            target_sbp: 140.0,
            target_dbp: 90.0,
            elderly_age: 65,
            elderly_target_sbp: 150.0,
            elderly_target_dbp: 90.0,
            target_fpg: 7.0,
            visits_per_year: 4,
            routine_days: 90,
            recheck_days: 14,
            screening_sbp: 140.0,
            screening_dbp: 90.0,
            confirm_raised_days: 3,
            screening_recheck_days: 7,
            screening_days: 365,
            high_risk_screening_days: 182,
            high_risk_sbp: 130.0,
            high_risk_dbp: 85.0,
            high_risk_bmi: 24.0,
            high_risk_waist_men_cm: 90.0,
            high_risk_waist_women_cm: 85.0,
            high_risk_age: 55,
        }
    }
}

/// What a follow-up found, as the decision reads it.
#[derive(Clone, Debug, Default)]
pub struct Reading {
    pub sbp: Option<f64>,
    pub dbp: Option<f64>,
    pub heart_rate: Option<f64>,
    pub fpg_mmol: Option<f64>,
    pub symptoms: Vec<Symptom>,
    pub adverse_reaction: bool,
    /// A new or worse complication.
    pub complication: bool,
}

/// 此次随访分类.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Controlled = 1,
    Uncontrolled = 2,
    AdverseReaction = 3,
    Complication = 4,
}

/// 下一步管理措施.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    Routine = 1,
    TwoWeekRecheck = 2,
    Referral = 3,
    EmergencyReferral = 4,
}

impl Classification {
    pub const ALL: [Classification; 4] = [
        Classification::Controlled,
        Classification::Uncontrolled,
        Classification::AdverseReaction,
        Classification::Complication,
    ];

    /// The number the national form gives it (1–4).
    pub fn as_number(self) -> i64 {
        self as i64
    }

    pub fn from_number(number: i64) -> Option<Classification> {
        Classification::ALL
            .into_iter()
            .find(|c| c.as_number() == number)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Classification::Controlled => "控制满意",
            Classification::Uncontrolled => "控制不满意",
            Classification::AdverseReaction => "不良反应",
            Classification::Complication => "并发症",
        }
    }
}

impl NextStep {
    pub const ALL: [NextStep; 4] = [
        NextStep::Routine,
        NextStep::TwoWeekRecheck,
        NextStep::Referral,
        NextStep::EmergencyReferral,
    ];

    /// The number the national form gives it (1–4).
    pub fn as_number(self) -> i64 {
        self as i64
    }

    pub fn from_number(number: i64) -> Option<NextStep> {
        NextStep::ALL.into_iter().find(|n| n.as_number() == number)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            NextStep::Routine => "常规随访",
            NextStep::TwoWeekRecheck => "第1次控制不满意2周随访",
            NextStep::Referral => "两次控制不满意转诊随访",
            NextStep::EmergencyReferral => "紧急转诊",
        }
    }

    /// Whether the step refers the patient up.
    pub fn refers(self) -> bool {
        matches!(self, NextStep::Referral | NextStep::EmergencyReferral)
    }
}

/// The decision, with why, in Chinese.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub emergency_criteria: Vec<String>,
    pub classification: Classification,
    pub next_step: NextStep,
    /// Days from the follow-up to the next one.
    pub next_due_days: i64,
    pub reasons: Vec<String>,
    /// Whether the blood pressure was at target (absent when not measured), for the control
    /// rates.
    pub bp_at_target: Option<bool>,
    /// Whether the fasting glucose was at target (absent when not measured).
    pub fpg_at_target: Option<bool>,
}

/// A value outside what a living patient can show: the field and its plausible range.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("{field} must lie between {low} and {high}")]
pub struct Implausible {
    pub field: &'static str,
    pub low: f64,
    pub high: f64,
}

/// Refuses a value outside `low..=high`, naming the field.
pub fn check_range(
    field: &'static str,
    value: Option<f64>,
    low: f64,
    high: f64,
) -> Result<(), Implausible> {
    match value {
        Some(value) if !(low..=high).contains(&value) || !value.is_finite() => {
            Err(Implausible { field, low, high })
        }
        _ => Ok(()),
    }
}

/// Refuses readings no patient can have (SBP 60–260, DBP 40–200, FPG 1–40, heart rate 20–250).
pub fn check_plausible(reading: &Reading) -> Result<(), Implausible> {
    check_range("sbp", reading.sbp, 60.0, 260.0)?;
    check_range("dbp", reading.dbp, 40.0, 200.0)?;
    check_range("fpg_mmol", reading.fpg_mmol, 1.0, 40.0)?;
    check_range("heart_rate", reading.heart_rate, 20.0, 250.0)?;
    if let (Some(sbp), Some(dbp)) = (reading.sbp, reading.dbp)
        && dbp >= sbp
    {
        return Err(Implausible {
            field: "dbp",
            low: 40.0,
            high: sbp,
        });
    }
    Ok(())
}

/// The emergency referral criteria the reading meets (empty when none).
fn emergency_criteria(program: Program, reading: &Reading, t: &Thresholds) -> Vec<String> {
    let mut met = Vec::new();
    if reading.sbp.is_some_and(|v| v >= t.emergency_sbp) {
        met.push(format!("收缩压 ≥ {} mmHg", t.emergency_sbp));
    }
    if reading.dbp.is_some_and(|v| v >= t.emergency_dbp) {
        met.push(format!("舒张压 ≥ {} mmHg", t.emergency_dbp));
    }
    if program == Program::Diabetes {
        if reading
            .fpg_mmol
            .is_some_and(|v| v >= t.emergency_glucose_high)
        {
            met.push(format!("血糖 ≥ {} mmol/L", t.emergency_glucose_high));
        }
        if reading
            .fpg_mmol
            .is_some_and(|v| v <= t.emergency_glucose_low)
        {
            met.push(format!("血糖 ≤ {} mmol/L", t.emergency_glucose_low));
        }
        if reading
            .heart_rate
            .is_some_and(|v| v > t.emergency_heart_rate)
        {
            met.push(format!("心率 > {} 次/分", t.emergency_heart_rate));
        }
    }
    for symptom in &reading.symptoms {
        if symptom.urgent_in(program) {
            met.push(symptom.label_zh().to_owned());
        }
    }
    met
}

/// Whether the reading is at target, and why not.
/// The blood pressure target (SBP, DBP below) for the age.
fn bp_target(age: i32, t: &Thresholds) -> (f64, f64) {
    if age >= t.elderly_age {
        (t.elderly_target_sbp, t.elderly_target_dbp)
    } else {
        (t.target_sbp, t.target_dbp)
    }
}

fn at_target(program: Program, reading: &Reading, age: i32, t: &Thresholds) -> (bool, Vec<String>) {
    let (sbp_target, dbp_target) = bp_target(age, t);
    let mut why = Vec::new();
    match (reading.sbp, reading.dbp) {
        (Some(sbp), Some(dbp)) if sbp >= sbp_target || dbp >= dbp_target => {
            why.push(format!(
                "血压 {sbp}/{dbp} mmHg 未达目标 < {sbp_target}/{dbp_target}"
            ));
        }
        (Some(_), Some(_)) => {}
        _ if program == Program::Hypertension => why.push("未测血压".to_owned()),
        _ => {}
    }
    if program == Program::Diabetes {
        match reading.fpg_mmol {
            Some(fpg) if fpg >= t.target_fpg => {
                why.push(format!("空腹血糖 {fpg} mmol/L 未达目标 < {}", t.target_fpg))
            }
            Some(_) => {}
            None => why.push("未测空腹血糖".to_owned()),
        }
    }
    (why.is_empty(), why)
}

/// The follow-up's decision by the rules. `previous` is the last follow-up's classification in
/// the programme, if any: a second uncontrolled visit in a row is referred.
pub fn decide(
    program: Program,
    reading: &Reading,
    age: i32,
    previous: Option<Classification>,
    t: &Thresholds,
) -> Decision {
    let emergency = emergency_criteria(program, reading, t);
    let (controlled, mut reasons) = at_target(program, reading, age, t);
    let classification = if reading.complication {
        reasons.push("出现新的并发症或原有并发症加重".to_owned());
        Classification::Complication
    } else if reading.adverse_reaction {
        reasons.push("出现药物不良反应".to_owned());
        Classification::AdverseReaction
    } else if controlled {
        reasons.push("控制满意，无药物不良反应和新发并发症".to_owned());
        Classification::Controlled
    } else {
        Classification::Uncontrolled
    };
    let uncontrolled_again = classification == Classification::Uncontrolled
        && previous == Some(Classification::Uncontrolled);
    let next_step = if !emergency.is_empty() {
        reasons.push(format!("符合紧急转诊指征：{}", emergency.join("、")));
        NextStep::EmergencyReferral
    } else if classification == Classification::Complication {
        NextStep::Referral
    } else if uncontrolled_again {
        reasons.push("连续两次随访控制不满意".to_owned());
        NextStep::Referral
    } else if matches!(
        classification,
        Classification::Uncontrolled | Classification::AdverseReaction
    ) {
        NextStep::TwoWeekRecheck
    } else {
        NextStep::Routine
    };
    let next_due_days = match next_step {
        NextStep::Routine => t.routine_days,
        _ => t.recheck_days,
    };
    let (sbp_target, dbp_target) = bp_target(age, t);
    Decision {
        emergency_criteria: emergency,
        classification,
        next_step,
        next_due_days,
        reasons,
        bp_at_target: reading
            .sbp
            .zip(reading.dbp)
            .map(|(sbp, dbp)| sbp < sbp_target && dbp < dbp_target),
        fpg_at_target: reading.fpg_mmol.map(|fpg| fpg < t.target_fpg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(sbp: f64, dbp: f64) -> Reading {
        Reading {
            sbp: Some(sbp),
            dbp: Some(dbp),
            ..Reading::default()
        }
    }

    fn hypertension(reading: &Reading, age: i32, previous: Option<Classification>) -> Decision {
        decide(
            Program::Hypertension,
            reading,
            age,
            previous,
            &Thresholds::default(),
        )
    }

    #[test]
    fn at_target_is_routine_in_three_months() {
        let d = hypertension(&bp(138.0, 88.0), 50, None);
        assert_eq!(d.classification, Classification::Controlled);
        assert_eq!(d.next_step, NextStep::Routine);
        assert_eq!(d.next_due_days, 90);
        assert!(d.emergency_criteria.is_empty());
    }

    #[test]
    fn the_first_uncontrolled_visit_is_rechecked_in_two_weeks_and_the_second_referred() {
        let first = hypertension(&bp(140.0, 80.0), 50, Some(Classification::Controlled));
        assert_eq!(first.classification, Classification::Uncontrolled);
        assert_eq!(first.next_step, NextStep::TwoWeekRecheck);
        assert_eq!(first.next_due_days, 14);
        let second = hypertension(&bp(150.0, 92.0), 50, Some(Classification::Uncontrolled));
        assert_eq!(second.next_step, NextStep::Referral);
        assert_eq!(second.next_due_days, 14);
    }

    #[test]
    fn the_elderly_target_is_150_over_90() {
        assert_eq!(
            hypertension(&bp(148.0, 85.0), 65, None).classification,
            Classification::Controlled
        );
        assert_eq!(
            hypertension(&bp(148.0, 85.0), 64, None).classification,
            Classification::Uncontrolled
        );
    }

    #[test]
    fn emergency_thresholds_are_inclusive() {
        for (sbp, dbp, urgent) in [
            (179.0, 109.0, false),
            (180.0, 100.0, true),
            (170.0, 110.0, true),
        ] {
            let d = hypertension(&bp(sbp, dbp), 50, None);
            assert_eq!(
                d.next_step == NextStep::EmergencyReferral,
                urgent,
                "{sbp}/{dbp}"
            );
            assert_eq!(!d.emergency_criteria.is_empty(), urgent);
        }
    }

    #[test]
    fn diabetes_glucose_and_heart_rate_criteria() {
        let t = Thresholds::default();
        let reading = |fpg: f64, rate: f64| Reading {
            fpg_mmol: Some(fpg),
            heart_rate: Some(rate),
            ..bp(130.0, 80.0)
        };
        let step = |r: &Reading| decide(Program::Diabetes, r, 50, None, &t).next_step;
        assert_eq!(step(&reading(16.6, 100.0)), NextStep::TwoWeekRecheck);
        assert_eq!(step(&reading(16.7, 100.0)), NextStep::EmergencyReferral);
        assert_eq!(step(&reading(4.0, 80.0)), NextStep::Routine);
        assert_eq!(step(&reading(3.9, 80.0)), NextStep::EmergencyReferral);
        assert_eq!(step(&reading(6.0, 101.0)), NextStep::EmergencyReferral);
        // A heart rate over 100 is a diabetes criterion only.
        let fast = Reading {
            heart_rate: Some(120.0),
            ..bp(130.0, 80.0)
        };
        assert_eq!(hypertension(&fast, 50, None).next_step, NextStep::Routine);
    }

    #[test]
    fn symptoms_count_in_their_own_programme() {
        let acetone = Reading {
            symptoms: vec![Symptom::AcetoneBreath],
            fpg_mmol: Some(6.0),
            ..bp(130.0, 80.0)
        };
        let t = Thresholds::default();
        assert_eq!(
            decide(Program::Diabetes, &acetone, 50, None, &t).next_step,
            NextStep::EmergencyReferral
        );
        assert_eq!(
            hypertension(&acetone, 50, None).next_step,
            NextStep::Routine
        );
        let chest = Reading {
            symptoms: vec![Symptom::ChestTightness],
            ..bp(130.0, 80.0)
        };
        let d = hypertension(&chest, 50, None);
        assert_eq!(d.emergency_criteria, vec!["胸闷".to_owned()]);
    }

    #[test]
    fn adverse_reactions_and_complications() {
        let adverse = Reading {
            adverse_reaction: true,
            ..bp(130.0, 80.0)
        };
        let d = hypertension(&adverse, 50, None);
        assert_eq!(d.classification, Classification::AdverseReaction);
        assert_eq!(d.next_step, NextStep::TwoWeekRecheck);
        let worse = Reading {
            complication: true,
            ..bp(130.0, 80.0)
        };
        let d = hypertension(&worse, 50, None);
        assert_eq!(d.classification, Classification::Complication);
        assert_eq!(d.next_step, NextStep::Referral);
    }

    #[test]
    fn a_county_may_set_its_own_thresholds() {
        let strict = Thresholds {
            target_sbp: 130.0,
            target_dbp: 80.0,
            ..Thresholds::default()
        };
        let d = decide(Program::Hypertension, &bp(135.0, 78.0), 50, None, &strict);
        assert_eq!(d.classification, Classification::Uncontrolled);
    }

    #[test]
    fn implausible_values_are_refused_by_field() {
        assert_eq!(check_plausible(&bp(120.0, 80.0)), Ok(()));
        assert_eq!(check_plausible(&bp(270.0, 80.0)).unwrap_err().field, "sbp");
        assert_eq!(check_plausible(&bp(120.0, 39.0)).unwrap_err().field, "dbp");
        assert_eq!(check_plausible(&bp(90.0, 95.0)).unwrap_err().field, "dbp");
        let sugar = Reading {
            fpg_mmol: Some(0.5),
            ..Reading::default()
        };
        assert_eq!(check_plausible(&sugar).unwrap_err().field, "fpg_mmol");
    }
}
