//! The institution indicators of SUPERVISION.md, monthly, each institution against its peers
//! (the other members of its level): K01 admission rate (the 小病大治 signal), K02 cost growth
//! year on year, K03 cost shares, K04 low-threshold admission rate, K05 31-day unplanned
//! readmission rate, K07 cost outliers per ICD-10 category. No I/O here: the caller gives a
//! month's figures and stays, and gets back the hits with their peer comparison.

use std::collections::HashMap;

use super::rules::{self, Comparison, Encounter, Hit, Parameters, RuleCode};

const DAY_MS: i64 = 86_400_000;

/// One institution's month, summed over the encounters starting in it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub institution_id: i64,
    /// Its care level (`InstitutionKind::level`): the peers are the same level.
    pub level: u8,
    pub outpatient_visits: i64,
    pub outpatient_fen: i64,
    pub admissions: i64,
    pub inpatient_fen: i64,
    /// Every encounter's costs: drugs, examinations and tests, materials, treatment, in all.
    pub drugs_fen: i64,
    pub examinations_fen: i64,
    pub materials_fen: i64,
    pub treatment_fen: i64,
    pub total_fen: i64,
}

/// What the indicators of one month read.
pub struct Month<'a> {
    /// `YYYY-MM`, and its bounds.
    pub month: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub figures: &'a [Figures],
    /// The month before (K01's rise).
    pub previous: &'a [Figures],
    /// The year to the month's end, and the same months a year before (K02's growth).
    pub year_to_date: &'a [Figures],
    pub year_to_date_before: &'a [Figures],
    /// The inpatient stays admitted from `readmission_days` before the month to its end, the
    /// principal diagnosis first.
    pub stays: &'a [Encounter],
}

/// Every enabled indicator's hits for the month.
pub fn check_month(m: &Month, enabled: &[RuleCode], p: &Parameters) -> Vec<Hit> {
    let mut hits = Vec::new();
    for rule in enabled {
        match rule {
            RuleCode::K01 => admission_rate(m, p, &mut hits),
            RuleCode::K02 => cost_growth(m, p, &mut hits),
            RuleCode::K03 => cost_shares(m, p, &mut hits),
            RuleCode::K04 | RuleCode::K05 => stay_rates(m, *rule, p, &mut hits),
            RuleCode::K07 => cost_outliers(m, p, &mut hits),
            _ => {}
        }
    }
    hits
}

/// The measure a hit is about (the key's last part): verification looks for it again.
pub fn measure_of(key: &str) -> &str {
    key.rsplit(':').next().unwrap_or_default()
}

/// An institution's value of one measure.
struct Value {
    institution_id: i64,
    level: u8,
    value: f64,
    /// What the value divides by: too few and it is not compared.
    cases: i64,
}

/// The value at quantile `q` of sorted values (linear between the nearest ranks).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = (sorted.len() - 1) as f64 * q;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64)
}

/// Each value with enough cases beside its peers' median and 90th percentile, when it has
/// enough peers.
fn with_peers<'v>(values: &'v [Value], p: &Parameters) -> Vec<(&'v Value, Comparison)> {
    let counted: Vec<&Value> = values
        .iter()
        .filter(|v| v.cases >= p.indicator_min_cases)
        .collect();
    counted
        .iter()
        .filter_map(|v| {
            let mut peers: Vec<f64> = counted
                .iter()
                .filter(|o| o.level == v.level && o.institution_id != v.institution_id)
                .map(|o| o.value)
                .collect();
            if peers.len() < p.min_peers.max(1) {
                return None;
            }
            peers.sort_by(f64::total_cmp);
            let comparison = Comparison {
                value: v.value,
                peer_median: quantile(&peers, 0.5),
                peer_p90: quantile(&peers, 0.9),
                peers: peers.len() as i64,
            };
            Some((*v, comparison))
        })
        .collect()
}

fn above_p90(c: &Comparison, p: &Parameters) -> bool {
    c.value > c.peer_p90 * (1.0 + p.peer_excess_pct as f64 / 100.0)
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 * 100.0 / whole as f64
    } else {
        0.0
    }
}

fn indicator_hit(
    (rule, m, measure): (RuleCode, &Month, &str),
    institution_id: i64,
    comparison: Comparison,
    amount_fen: i64,
    detail: String,
) -> Hit {
    Hit {
        rule,
        institution_id,
        resident_id: None,
        encounters: Vec::new(),
        key: Some(format!("{institution_id}:{}:{measure}", m.month)),
        comparison: Some(comparison),
        amount_fen: amount_fen.max(0),
        at_ms: m.start_ms,
        detail,
    }
}

/// K01: admissions per 100 outpatient visits, above the peers' 90th percentile, or up on the
/// previous month by more than `admission_rate_rise_pct` while above the peers' median. The
/// amount is the admissions above the 90th percentile at the institution's cost per stay.
fn admission_rate(m: &Month, p: &Parameters, hits: &mut Vec<Hit>) {
    let rate = |f: &Figures| Value {
        institution_id: f.institution_id,
        level: f.level,
        value: percent(f.admissions, f.outpatient_visits),
        cases: f.outpatient_visits,
    };
    let values: Vec<Value> = m.figures.iter().map(rate).collect();
    let before: HashMap<i64, Value> = m
        .previous
        .iter()
        .map(|f| (f.institution_id, rate(f)))
        .filter(|(_, v)| v.cases >= p.indicator_min_cases)
        .collect();
    for (v, c) in with_peers(&values, p) {
        let f = m
            .figures
            .iter()
            .find(|f| f.institution_id == v.institution_id)
            .expect("the value's figures");
        let rise = before.get(&v.institution_id).filter(|b| {
            b.value > 0.0
                && c.value > b.value * (1.0 + p.admission_rate_rise_pct as f64 / 100.0)
                && c.value > c.peer_median
        });
        let detail = if above_p90(&c, p) {
            format!(
                "住院率 {:.1}%（住院 {} 人次 / 门诊 {} 人次），高于同级机构第90百分位 {:.1}%",
                c.value, f.admissions, f.outpatient_visits, c.peer_p90
            )
        } else if let Some(b) = rise {
            format!(
                "住院率 {:.1}%，较上月 {:.1}% 上升 {:.0}%",
                c.value,
                b.value,
                (c.value / b.value - 1.0) * 100.0
            )
        } else {
            continue;
        };
        let excess = ((c.value - c.peer_p90) / 100.0 * f.outpatient_visits as f64).max(0.0);
        let per_stay = f.inpatient_fen / f.admissions.max(1);
        hits.push(indicator_hit(
            (RuleCode::K01, m, "admission_rate"),
            v.institution_id,
            c,
            (excess * per_stay as f64) as i64,
            detail,
        ));
    }
}

/// K02: cost per outpatient visit and per stay of the year to date, on the same months a year
/// before, above the county's target; the peers' growth is shown beside it. The amount is the
/// year's cost above the target's growth.
fn cost_growth(m: &Month, p: &Parameters, hits: &mut Vec<Hit>) {
    let target = p.cost_growth_target_pct as f64;
    for (measure, label) in [
        ("outpatient_cost", "门诊次均费用"),
        ("inpatient_cost", "住院次均费用"),
    ] {
        let per_case = |f: &Figures| match measure {
            "outpatient_cost" => (f.outpatient_fen, f.outpatient_visits),
            _ => (f.inpatient_fen, f.admissions),
        };
        let values: Vec<Value> = m
            .year_to_date
            .iter()
            .filter_map(|f| {
                let last = m
                    .year_to_date_before
                    .iter()
                    .find(|y| y.institution_id == f.institution_id)?;
                let ((now_fen, now_cases), (then_fen, then_cases)) = (per_case(f), per_case(last));
                if then_cases < p.indicator_min_cases || then_fen <= 0 {
                    return None;
                }
                let (now, then) = (
                    now_fen as f64 / now_cases.max(1) as f64,
                    then_fen as f64 / then_cases as f64,
                );
                Some(Value {
                    institution_id: f.institution_id,
                    level: f.level,
                    value: (now / then - 1.0) * 100.0,
                    cases: now_cases,
                })
            })
            .collect();
        for (v, c) in with_peers(&values, p) {
            if c.value <= target {
                continue;
            }
            let f = m
                .year_to_date
                .iter()
                .find(|f| f.institution_id == v.institution_id)
                .expect("the value's figures");
            let (fen, _) = per_case(f);
            let over = (c.value - target) / (100.0 + c.value);
            hits.push(indicator_hit(
                (RuleCode::K02, m, measure),
                v.institution_id,
                c,
                (fen as f64 * over) as i64,
                format!(
                    "{label}本年累计同比增长 {:.1}%，超过控制目标 {target:.0}%",
                    c.value
                ),
            ));
        }
    }
}

/// One part of an institution's costs.
type Part = fn(&Figures) -> i64;

/// K03: the shares of drugs, examinations and tests, materials and treatment in all costs,
/// above the peers' 90th percentile. The amount is the cost above it.
fn cost_shares(m: &Month, p: &Parameters, hits: &mut Vec<Hit>) {
    let parts: [(&str, &str, Part); 4] = [
        ("drugs", "药品费", |f| f.drugs_fen),
        ("examinations", "检查检验费", |f| f.examinations_fen),
        ("materials", "卫生材料费", |f| f.materials_fen),
        ("treatment", "治疗费", |f| f.treatment_fen),
    ];
    for (measure, label, part) in parts {
        let values: Vec<Value> = m
            .figures
            .iter()
            .map(|f| Value {
                institution_id: f.institution_id,
                level: f.level,
                value: percent(part(f), f.total_fen),
                cases: f.outpatient_visits + f.admissions,
            })
            .collect();
        for (v, c) in with_peers(&values, p) {
            if !above_p90(&c, p) {
                continue;
            }
            let total = m
                .figures
                .iter()
                .find(|f| f.institution_id == v.institution_id)
                .map_or(0, |f| f.total_fen);
            hits.push(indicator_hit(
                (RuleCode::K03, m, measure),
                v.institution_id,
                c,
                ((c.value - c.peer_p90) / 100.0 * total as f64) as i64,
                format!(
                    "{label}占比 {:.1}%，高于同级机构第90百分位 {:.1}%",
                    c.value, c.peer_p90
                ),
            ));
        }
    }
}

/// K04 (low-threshold admissions, R03's test) and K05 (unplanned readmissions within
/// `readmission_days` of a discharge from the same institution) per 100 admissions of the
/// month, above the peers' 90th percentile. The amount is those stays' cost.
fn stay_rates(m: &Month, rule: RuleCode, p: &Parameters, hits: &mut Vec<Hit>) {
    let levels: HashMap<i64, u8> = m
        .figures
        .iter()
        .map(|f| (f.institution_id, f.level))
        .collect();
    // Per institution: admissions, the stays counted and their cost.
    let mut counts: HashMap<i64, (i64, i64, i64)> = HashMap::new();
    let mut sorted: Vec<&Encounter> = m.stays.iter().collect();
    sorted.sort_by_key(|e| (e.resident_id, e.started_at_ms, e.id));
    for (index, stay) in sorted.iter().enumerate() {
        if !(m.start_ms..m.end_ms).contains(&stay.started_at_ms) {
            continue;
        }
        let counted = match rule {
            RuleCode::K04 => rules::low_threshold_reason(stay, p).is_some(),
            _ => is_readmission(&sorted[..index], stay, p),
        };
        let entry = counts.entry(stay.institution_id).or_default();
        entry.0 += 1;
        if counted {
            entry.1 += 1;
            entry.2 += stay.total_fen;
        }
    }
    let values: Vec<Value> = counts
        .iter()
        .filter_map(|(institution_id, (admissions, counted, _))| {
            Some(Value {
                institution_id: *institution_id,
                level: *levels.get(institution_id)?,
                value: percent(*counted, *admissions),
                cases: *admissions,
            })
        })
        .collect();
    let (measure, label) = match rule {
        RuleCode::K04 => ("low_threshold", "低标准入院率"),
        _ => ("readmission", "非计划再住院率"),
    };
    for (v, c) in with_peers(&values, p) {
        if c.value <= 0.0 || !above_p90(&c, p) {
            continue;
        }
        let (admissions, counted, fen) = counts[&v.institution_id];
        hits.push(indicator_hit(
            (rule, m, measure),
            v.institution_id,
            c,
            fen,
            format!(
                "{label} {:.1}%（{counted} / {admissions} 人次），高于同级机构第90百分位 {:.1}%",
                c.value, c.peer_p90
            ),
        ));
    }
}

/// Whether `stay` follows a discharge of the same resident from the same institution within
/// `readmission_days`, neither a planned episode nor a transfer on a referral. `before` holds
/// the stays sorted before it (by resident, then admission).
fn is_readmission(before: &[&Encounter], stay: &Encounter, p: &Parameters) -> bool {
    if stay.referred || rules::is_planned(stay, p) {
        return false;
    }
    before
        .iter()
        .rev()
        .take_while(|e| e.resident_id == stay.resident_id)
        .any(|e| {
            e.institution_id == stay.institution_id
                && !rules::is_planned(e, p)
                && e.ended_at_ms.is_some_and(|out| {
                    out <= stay.started_at_ms
                        && stay.started_at_ms - out <= p.readmission_days * DAY_MS
                })
        })
}

/// K07: stays admitted in the month whose cost is an outlier within their ICD-10 category and
/// level (modified z-score above `outlier_z`), one hit per institution and category with the
/// stays as evidence. The amount is their cost above the category's median.
fn cost_outliers(m: &Month, p: &Parameters, hits: &mut Vec<Hit>) {
    let levels: HashMap<i64, u8> = m
        .figures
        .iter()
        .map(|f| (f.institution_id, f.level))
        .collect();
    let mut groups: HashMap<(u8, &str), Vec<&Encounter>> = HashMap::new();
    for stay in m.stays {
        let (Some(level), Some(category), Some(_)) = (
            levels.get(&stay.institution_id),
            stay.category(),
            stay.ended_at_ms,
        ) else {
            continue;
        };
        if (m.start_ms..m.end_ms).contains(&stay.started_at_ms) {
            groups.entry((*level, category)).or_default().push(stay);
        }
    }
    let mut keys: Vec<(u8, &str)> = groups.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let stays = &groups[&key];
        if (stays.len() as i64) < p.indicator_min_cases {
            continue;
        }
        let mut costs: Vec<f64> = stays.iter().map(|s| s.total_fen as f64).collect();
        costs.sort_by(f64::total_cmp);
        let median = quantile(&costs, 0.5);
        let mut deviations: Vec<f64> = costs.iter().map(|c| (c - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let mad = quantile(&deviations, 0.5);
        if mad <= 0.0 {
            continue;
        }
        let mut by_institution: HashMap<i64, Vec<&Encounter>> = HashMap::new();
        for stay in stays {
            if 0.6745 * (stay.total_fen as f64 - median) / mad > p.outlier_z {
                by_institution
                    .entry(stay.institution_id)
                    .or_default()
                    .push(stay);
            }
        }
        let mut institutions: Vec<i64> = by_institution.keys().copied().collect();
        institutions.sort_unstable();
        for institution_id in institutions {
            let outliers = &by_institution[&institution_id];
            let sum: i64 = outliers.iter().map(|s| s.total_fen).sum();
            let mean = sum as f64 / outliers.len() as f64;
            let mut encounters: Vec<i64> = outliers.iter().map(|s| s.id).collect();
            encounters.sort_unstable();
            let yuan = |fen: f64| (fen / 100.0).round();
            let comparison = Comparison {
                value: yuan(mean),
                peer_median: yuan(median),
                peer_p90: yuan(quantile(&costs, 0.9)),
                peers: costs.len() as i64,
            };
            let mut hit = indicator_hit(
                (RuleCode::K07, m, key.1),
                institution_id,
                comparison,
                sum - (median * outliers.len() as f64) as i64,
                format!(
                    "{} 例 {} 类住院费用离群（均 {:.0} 元，同级同病种中位数 {:.0} 元）",
                    outliers.len(),
                    key.1,
                    comparison.value,
                    comparison.peer_median
                ),
            );
            hit.encounters = encounters;
            hits.push(hit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn township(id: i64, visits: i64, admissions: i64) -> Figures {
        Figures {
            institution_id: id,
            level: 2,
            outpatient_visits: visits,
            outpatient_fen: visits * 10_000,
            admissions,
            inpatient_fen: admissions * 300_000,
            drugs_fen: 1_000,
            examinations_fen: 1_000,
            materials_fen: 1_000,
            treatment_fen: 1_000,
            total_fen: 4_000,
        }
    }

    fn month<'a>(figures: &'a [Figures], stays: &'a [Encounter]) -> Month<'a> {
        Month {
            month: "2026-05",
            start_ms: 0,
            end_ms: 31 * DAY_MS,
            figures,
            previous: &[],
            year_to_date: figures,
            year_to_date_before: &[],
            stays,
        }
    }

    #[test]
    fn the_admission_rate_far_above_its_peers_is_called_out() {
        let figures = [
            township(1, 1000, 50),
            township(2, 1000, 55),
            township(3, 1000, 60),
            township(4, 1000, 150),
        ];
        let hits = check_month(
            &month(&figures, &[]),
            &[RuleCode::K01],
            &Parameters::default(),
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].institution_id, 4);
        assert_eq!(hits[0].key.as_deref(), Some("4:2026-05:admission_rate"));
        let c = hits[0].comparison.unwrap();
        assert_eq!((c.value, c.peer_median, c.peers), (15.0, 5.5, 3));
        // Just above the 90th percentile (5.9 %) but within the 10 % margin: not called out.
        let close = [
            figures[0].clone(),
            figures[1].clone(),
            figures[2].clone(),
            township(4, 1000, 64),
        ];
        assert!(
            check_month(
                &month(&close, &[]),
                &[RuleCode::K01],
                &Parameters::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn a_readmission_within_31_days_counts_and_32_does_not() {
        let stay = |id, resident, institution, day: i64| Encounter {
            id,
            resident_id: resident,
            institution_id: institution,
            inpatient: true,
            started_at_ms: day * DAY_MS,
            ended_at_ms: Some((day + 5) * DAY_MS),
            referred: false,
            diagnoses: vec!["J18.9".into()],
            total_fen: 300_000,
            drugs_fen: 0,
            examinations_fen: 0,
            female: false,
            age: 60,
        };
        let p = Parameters {
            indicator_min_cases: 1,
            ..Parameters::default()
        };
        let previous = stay(1, 1, 10, -30);
        let within = stay(2, 1, 10, 6); // discharged day -25, back on day 6: 31 days
        let before: Vec<&Encounter> = vec![&previous];
        assert!(is_readmission(&before, &within, &p));
        let late = stay(3, 1, 10, 7);
        assert!(!is_readmission(&before, &late, &p));
        let mut chemo = stay(4, 1, 10, 6);
        chemo.diagnoses = vec!["Z51.1".into()];
        assert!(!is_readmission(&before, &chemo, &p));
    }

    #[test]
    fn a_stay_far_above_its_category_is_an_outlier() {
        let stay = |id: i64, institution: i64, yuan: i64| Encounter {
            id,
            resident_id: id,
            institution_id: institution,
            inpatient: true,
            started_at_ms: DAY_MS,
            ended_at_ms: Some(6 * DAY_MS),
            referred: false,
            diagnoses: vec!["I63.9".into()],
            total_fen: yuan * 100,
            drugs_fen: 0,
            examinations_fen: 0,
            female: false,
            age: 70,
        };
        // Twenty ordinary stays of 3,000–3,950 yuan at two centres, one of 20,000 at the second.
        let mut stays: Vec<Encounter> = (0..20)
            .map(|n| stay(n, 1 + n % 2, 3_000 + n * 50))
            .collect();
        stays.push(stay(99, 2, 20_000));
        let figures = [township(1, 100, 10), township(2, 100, 11)];
        let hits = check_month(
            &month(&figures, &stays),
            &[RuleCode::K07],
            &Parameters::default(),
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].institution_id, hits[0].encounters.clone()),
            (2, vec![99])
        );
        assert_eq!(hits[0].key.as_deref(), Some("2:2026-05:I63"));
    }

    #[test]
    fn cost_growth_above_the_target_is_called_out() {
        let mut now = township(1, 100, 10);
        now.outpatient_fen = 100 * 10_550; // 105.50 yuan a visit, 100 a year before: 5.5 %
        let peers = [township(2, 100, 10), township(3, 100, 10)];
        let figures = [now, peers[0].clone(), peers[1].clone()];
        let year_ago = [township(1, 100, 10), peers[0].clone(), peers[1].clone()];
        let m = Month {
            year_to_date_before: &year_ago,
            ..month(&figures, &[])
        };
        let hits = check_month(&m, &[RuleCode::K02], &Parameters::default());
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].key.as_deref(), Some("1:2026-05:outpatient_cost"));
        let within = Parameters {
            cost_growth_target_pct: 6,
            ..Parameters::default()
        };
        assert!(check_month(&m, &[RuleCode::K02], &within).is_empty());
    }
}
