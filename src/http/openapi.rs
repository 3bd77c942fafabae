//! The OpenAPI 3 document of the JSON API, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::http::extract::Json;
use crate::{ecg, health_record, institution, recognition, referral, resident, staff};

#[derive(OpenApi)]
#[openapi(
    info(title = "yijia API", description = "紧密型县域医共体信息平台 — county medical community platform"),
    paths(
        staff::http::create_session,
        staff::http::delete_session,
        staff::http::get_me,
        staff::http::list_staff,
        staff::http::create_staff,
        institution::http::list_institutions,
        institution::http::get_institution,
        institution::http::create_institution,
        resident::http::create_resident,
        resident::http::list_residents,
        resident::http::get_resident,
        resident::http::update_resident_contact,
        resident::http::list_resident_accesses,
        resident::http::list_probable_duplicates,
        resident::http::merge_residents,
        ecg::http::create_ecg,
        ecg::http::get_ecg,
        ecg::http::get_ecg_waveform,
        ecg::http::list_worklist,
        ecg::http::claim_ecg,
        ecg::http::create_ecg_report,
        ecg::http::acknowledge_ecg,
        ecg::http::list_inbox,
        ecg::http::stream_events,
        referral::http::create_referral,
        referral::http::get_referral,
        referral::http::create_referral_transition,
        referral::http::list_referrals,
        referral::http::create_green_channel,
        referral::http::create_time_point,
        referral::http::get_timeline,
        referral::http::list_tier_catalogue,
        referral::http::get_referral_figures,
        referral::http::get_chest_pain_report,
        referral::http::list_down_suggestions,
        referral::http::create_tier_catalogue_entry,
        referral::http::delete_tier_catalogue_entry,
        health_record::http::create_encounter,
        health_record::http::get_encounter,
        health_record::http::create_discharge,
        health_record::http::create_exam_report,
        health_record::http::get_exam_report,
        health_record::http::get_lab_report,
        health_record::http::acknowledge_lab_report,
        health_record::http::list_critical_values,
        health_record::http::receive_hl7v2,
        health_record::http::get_resident_timeline,
        recognition::http::list_recognition_items,
        recognition::http::create_recognition_item,
        recognition::http::delete_recognition_item,
        recognition::http::list_recognised_results,
        recognition::http::create_order,
        recognition::http::get_recognition_figures,
        crate::portal::views::create_portal_account,
        crate::insurance::http::list_insurance_rules,
        crate::insurance::http::put_insurance_rule,
        crate::insurance::http::list_claims,
        crate::insurance::http::settle_claims,
        crate::insurance::http::get_budget,
        crate::insurance::http::create_budget,
        crate::insurance::http::create_prepayment,
        crate::insurance::http::create_review,
        crate::insurance::http::create_settlement,
        crate::insurance::http::put_member_scores,
        crate::insurance::http::list_dip_groups,
        crate::insurance::http::put_dip_group,
        crate::insurance::http::get_dip_scores,
        crate::chronic::http::create_enrolment,
        crate::chronic::http::list_enrolments,
        crate::chronic::http::get_enrolment,
        crate::chronic::http::change_enrolment_status,
        crate::chronic::http::create_follow_up,
        crate::chronic::http::list_follow_ups,
        crate::chronic::http::preview_decision,
        crate::chronic::http::get_thresholds,
        crate::chronic::http::put_thresholds,
        crate::chronic::http::list_overdue,
        crate::chronic::http::list_due,
        crate::chronic::http::list_tasks,
        crate::chronic::http::create_call,
        crate::chronic::http::monthly_measures,
        crate::chronic::http::create_screening,
        crate::chronic::http::list_screening,
        crate::chronic::http::resident_screening,
        crate::chronic::http::refer_screening,
        crate::supervision::http::get_rules,
        crate::supervision::http::put_rules,
        crate::supervision::http::create_run,
        crate::supervision::http::list_alerts,
        crate::supervision::http::get_alert,
        crate::supervision::http::create_transition,
        crate::family_doctor::http::create_team,
        crate::family_doctor::http::list_teams,
        crate::family_doctor::http::create_package,
        crate::family_doctor::http::list_packages,
        crate::family_doctor::http::create_contract,
        crate::family_doctor::http::list_contracts,
        crate::family_doctor::http::get_contract,
        crate::family_doctor::http::terminate_contract,
        crate::family_doctor::http::renew_contract,
        crate::family_doctor::http::family_doctor_measures,
        crate::indicator::http::list_indicators,
        crate::indicator::http::export_indicators,
        crate::indicator::http::list_indicator_definitions,
        crate::indicator::http::put_indicator_definition,
        crate::indicator::http::reset_indicator_definition,
        crate::indicator::http::put_indicator_target,
        crate::indicator::http::reset_indicator_target,
        crate::indicator::http::list_indicator_measures,
        crate::indicator::http::list_indicator_by_institution,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
