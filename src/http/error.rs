//! The one mapping from domain errors to HTTP: a status and a stable `area.reason` code, in the
//! JSON shape `{"code": "…", "message": "…"}`. Internal failures are logged here, once, and
//! answered with a message that reveals nothing.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{
    access, audit, ecg, health_record, institution, recognition, referral, resident, staff,
};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_s: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, `area.reason`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    fn internal(error: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal.error",
            "内部错误，请稍后重试",
        )
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "http.not_found", "no such resource")
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "http.bad_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub(crate) fn denied() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "access.denied",
        "you may not access this",
    )
}

impl From<access::Denied> for ApiError {
    fn from(_: access::Denied) -> ApiError {
        denied()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::internal(&error)
    }
}

impl From<audit::Error> for ApiError {
    fn from(error: audit::Error) -> ApiError {
        ApiError::internal(&error)
    }
}

impl From<resident::Error> for ApiError {
    fn from(error: resident::Error) -> ApiError {
        use resident::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::InvalidIdNumber(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "resident.invalid_id_number",
            ),
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "resident.invalid"),
            E::UnknownVillageClinic => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "resident.unknown_village_clinic",
            ),
            E::Duplicate => (StatusCode::CONFLICT, "resident.duplicate"),
            E::NotFound => (StatusCode::NOT_FOUND, "resident.not_found"),
            E::AlreadyMerged => (StatusCode::CONFLICT, "resident.already_merged"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<staff::Error> for ApiError {
    fn from(error: staff::Error) -> ApiError {
        use staff::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "auth.invalid_credentials"),
            E::TooManyAttempts { retry_after_s } => {
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "auth.too_many_attempts",
                    message,
                );
                response.retry_after_s = Some(retry_after_s);
                return response;
            }
            E::Busy => {
                let mut response =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "auth.busy", message);
                response.retry_after_s = Some(1);
                return response;
            }
            E::Unauthenticated => (StatusCode::UNAUTHORIZED, "auth.unauthenticated"),
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "staff.invalid"),
            E::DuplicateUsername => (StatusCode::CONFLICT, "staff.duplicate_username"),
            E::NotFound => (StatusCode::NOT_FOUND, "staff.not_found"),
            E::Denied(_) => return denied(),
            E::Hashing => return ApiError::internal(&error),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<institution::Error> for ApiError {
    fn from(error: institution::Error) -> ApiError {
        use institution::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::NotFound => (StatusCode::NOT_FOUND, "institution.not_found"),
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "institution.invalid"),
            E::DuplicateCode => (StatusCode::CONFLICT, "institution.duplicate_code"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<ecg::Error> for ApiError {
    fn from(error: ecg::Error) -> ApiError {
        use ecg::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Unreadable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "ecg.unreadable"),
            E::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ecg.idempotency_key_reused",
            ),
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "ecg.invalid"),
            E::NotFound => (StatusCode::NOT_FOUND, "ecg.not_found"),
            E::AlreadyClaimed => (StatusCode::CONFLICT, "ecg.already_claimed"),
            E::NotClaimed => (StatusCode::CONFLICT, "ecg.not_claimed"),
            E::NotReported => (StatusCode::CONFLICT, "ecg.not_reported"),
            E::Resident(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<referral::Error> for ApiError {
    fn from(error: referral::Error) -> ApiError {
        use referral::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "referral.invalid"),
            E::NotFound => (StatusCode::NOT_FOUND, "referral.not_found"),
            E::InvalidTransition { .. } => (StatusCode::CONFLICT, "referral.invalid_transition"),
            E::EcgNotCritical => (StatusCode::CONFLICT, "referral.ecg_not_critical"),
            E::CatalogueExceptionNeeded => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "referral.catalogue_exception_needed",
            ),
            E::Resident(error) => return error.into(),
            E::Ecg(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<health_record::Error> for ApiError {
    fn from(error: health_record::Error) -> ApiError {
        use health_record::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "health_record.invalid"),
            E::EncounterNotFound => (StatusCode::NOT_FOUND, "encounter.not_found"),
            E::ReportNotFound => (StatusCode::NOT_FOUND, "report.not_found"),
            E::AlreadyDischarged => (StatusCode::CONFLICT, "encounter.already_discharged"),
            E::Resident(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<recognition::Error> for ApiError {
    fn from(error: recognition::Error) -> ApiError {
        use recognition::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "recognition.invalid"),
            E::Duplicate => (StatusCode::CONFLICT, "recognition.duplicate"),
            E::RecentResult { .. } => (StatusCode::CONFLICT, "recognition.recent_result"),
            E::Resident(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::portal::Error> for ApiError {
    fn from(error: crate::portal::Error) -> ApiError {
        use crate::portal::Error as E;
        match error {
            E::Resident(error) => error.into(),
            E::Staff(error) => error.into(),
            E::Denied(_) => denied(),
            E::Db(error) => error.into(),
            E::Audit(error) => error.into(),
        }
    }
}

impl From<crate::insurance::Error> for ApiError {
    fn from(error: crate::insurance::Error) -> ApiError {
        use crate::insurance::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "insurance.invalid"),
            E::NoBudget(_) => (StatusCode::NOT_FOUND, "budget.not_found"),
            E::BudgetExists(_) => (StatusCode::CONFLICT, "budget.exists"),
            E::PeriodClosed(_) => (StatusCode::CONFLICT, "budget.period_closed"),
            E::NoRules { .. } => (StatusCode::CONFLICT, "insurance.no_rules"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::indicator::Error> for ApiError {
    fn from(error: crate::indicator::Error) -> ApiError {
        use crate::indicator::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "indicator.invalid"),
            E::UnknownInstitution => (StatusCode::NOT_FOUND, "institution.not_found"),
            E::UnknownIndicator => (StatusCode::NOT_FOUND, "indicator.not_found"),
            E::NotEditable => (StatusCode::CONFLICT, "indicator.not_editable"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::chronic::Error> for ApiError {
    fn from(error: crate::chronic::Error) -> ApiError {
        use crate::chronic::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "chronic.invalid"),
            E::Duplicate => (StatusCode::CONFLICT, "chronic.duplicate"),
            E::NotFound => (StatusCode::NOT_FOUND, "chronic.not_found"),
            E::Implausible(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "chronic.implausible_value",
            ),
            E::Ended => (StatusCode::CONFLICT, "chronic.ended"),
            E::FollowUpRecorded | E::ScreeningRecorded => {
                (StatusCode::CONFLICT, "chronic.duplicate")
            }
            E::ScreeningReferred => (StatusCode::CONFLICT, "chronic.screening_referred"),
            E::NotSuspected => (StatusCode::CONFLICT, "chronic.not_suspected"),
            E::Referral(error) => return error.into(),
            E::Resident(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::supervision::Error> for ApiError {
    fn from(error: crate::supervision::Error) -> ApiError {
        use crate::supervision::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "supervision.invalid"),
            E::NotFound => (StatusCode::NOT_FOUND, "supervision.not_found"),
            E::IllegalStep { .. } => (StatusCode::CONFLICT, "supervision.illegal_step"),
            E::NotRectified(_) => (StatusCode::CONFLICT, "supervision.not_rectified"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::assessment::Error> for ApiError {
    fn from(error: crate::assessment::Error) -> ApiError {
        use crate::assessment::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "assessment.invalid"),
            E::Frozen(_) => (StatusCode::CONFLICT, "assessment.frozen"),
            E::Denied(_) => return denied(),
            E::Indicator(error) => return error.into(),
            E::FamilyDoctor(error) => return error.into(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::dispatch::Error> for ApiError {
    fn from(error: crate::dispatch::Error) -> ApiError {
        use crate::dispatch::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "dispatch.invalid"),
            E::Overlap { .. } => (StatusCode::CONFLICT, "dispatch.overlap"),
            E::NotFound => (StatusCode::NOT_FOUND, "dispatch.not_found"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<crate::family_doctor::Error> for ApiError {
    fn from(error: crate::family_doctor::Error) -> ApiError {
        use crate::family_doctor::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "family_doctor.invalid"),
            E::NotFound => (StatusCode::NOT_FOUND, "family_doctor.not_found"),
            E::ContractExists(_) => (StatusCode::CONFLICT, "family_doctor.contract_exists"),
            E::Closed => (StatusCode::CONFLICT, "family_doctor.closed"),
            E::Duplicate => (StatusCode::CONFLICT, "family_doctor.duplicate"),
            E::Resident(error) => return error.into(),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
            E::Audit(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<referral::catalogue::Error> for ApiError {
    fn from(error: referral::catalogue::Error) -> ApiError {
        use referral::catalogue::Error as E;
        let message = error.to_string();
        let (status, code) = match error {
            E::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "tier_catalogue.invalid"),
            E::Duplicate => (StatusCode::CONFLICT, "tier_catalogue.duplicate"),
            E::Denied(_) => return denied(),
            E::Db(error) => return error.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "http.invalid_json",
            rejection.body_text(),
        )
    }
}

impl From<axum::extract::multipart::MultipartRejection> for ApiError {
    fn from(rejection: axum::extract::multipart::MultipartRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "http.invalid_multipart",
            rejection.body_text(),
        )
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "http.invalid_path",
            rejection.body_text(),
        )
    }
}
