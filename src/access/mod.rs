//! Access control: who may read or write which resident's data. Every handler that touches a
//! resident's data asks [`check`] (through `resident::authorize`), and nothing else decides.
//!
//! The rule is role × institution scope. A role grants kinds of data ([`Purpose`]) for reading
//! or writing; the actor's institution decides how far that reaches: the lead hospital and its
//! campuses and centres see the whole community, a township centre its township with its
//! villages, a village clinic its own village, and every institution also the residents referred
//! or assigned to it. Insurance officers see money, not clinical notes; supervisors see
//! aggregates only; a resident sees only themself.

use serde::{Deserialize, Serialize};

use crate::institution::InstitutionKind;
use crate::institution::model::CentreService;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    VillageDoctor,
    Doctor,
    Reader,
    Admin,
    InsuranceOfficer,
    Supervisor,
    Resident,
    /// A machine account of another system (the LIS): it may only deliver what its interface
    /// carries (results over HL7 v2) and read nothing.
    Interface,
    /// The machine account of a modality or its gateway (a township's DR, CT or ultrasound):
    /// it may only send images (C-STORE, STOW-RS) and take the worklist of the orders to be
    /// performed at its institution (Modality Worklist).
    ModalityInterface,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::VillageDoctor,
        Role::Doctor,
        Role::Reader,
        Role::Admin,
        Role::InsuranceOfficer,
        Role::Supervisor,
        Role::Resident,
        Role::Interface,
        Role::ModalityInterface,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::VillageDoctor => "village_doctor",
            Role::Doctor => "doctor",
            Role::Reader => "reader",
            Role::Admin => "admin",
            Role::InsuranceOfficer => "insurance_officer",
            Role::Supervisor => "supervisor",
            Role::Resident => "resident",
            Role::Interface => "interface",
            Role::ModalityInterface => "modality_interface",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::VillageDoctor => "村医",
            Role::Doctor => "医生",
            Role::Reader => "诊断医师",
            Role::Admin => "管理员",
            Role::InsuranceOfficer => "医保经办",
            Role::Supervisor => "卫健监管",
            Role::Resident => "居民",
            Role::Interface => "系统接口",
            Role::ModalityInterface => "影像设备接口",
        }
    }

    /// What this role may do with which kind of resident data, before scope is applied.
    fn grants(self, purpose: Purpose, access: Access) -> bool {
        use Access::*;
        use Purpose::*;
        match self {
            Role::VillageDoctor | Role::Doctor => matches!(purpose, Demographics | Clinical),
            Role::Interface => purpose == Results && access == Write,
            Role::ModalityInterface => purpose == Images,
            Role::Reader => match purpose {
                Demographics => access == Read,
                Clinical => true,
                Financial | Results | Images => false,
            },
            Role::Admin => purpose == Demographics,
            Role::InsuranceOfficer => match purpose {
                Demographics => access == Read,
                Financial => true,
                Clinical | Results | Images => false,
            },
            Role::Supervisor => false,
            Role::Resident => access == Read && !matches!(purpose, Results | Images),
        }
    }
}

/// The kind of resident data an operation touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Identity and registration: name, ID number, address, village.
    Demographics,
    /// Encounters, results, ECGs, reports, referrals, follow-ups.
    Clinical,
    /// Claims, costs, reimbursement.
    Financial,
    /// Results delivered into the record by another system's interface (lab results over
    /// HL7 v2); only machine accounts write them this way, and nobody reads through it.
    Results,
    /// What a modality exchanges with the imaging centre: the images it sends (C-STORE,
    /// STOW-RS) and the worklist entries of the orders it performs (Modality Worklist).
    /// Only modality machine accounts use it; staff store and read images as clinical data.
    Images,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The institution an actor works at, as far as scope needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActorInstitution {
    pub id: i64,
    pub kind: InstitutionKind,
    pub township_id: Option<i64>,
    /// What a shared centre does.
    pub service: Option<CentreService>,
}

/// Someone logged in: a member of staff, or a resident at their own portal.
#[derive(Clone, Debug)]
pub struct Actor {
    pub staff_id: i64,
    pub community_id: i64,
    pub username: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub institution: Option<ActorInstitution>,
    pub resident_id: Option<i64>,
}

/// How far an actor's access reaches, as a set of residents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Nothing,
    OnlySelf {
        resident_id: i64,
    },
    Village {
        village_clinic_id: i64,
    },
    Township {
        township_id: i64,
        institution_id: i64,
    },
    Community,
}

impl Scope {
    /// The wider of two scopes; an actor with several roles gets the widest any of them grants.
    fn widest(self, other: Scope) -> Scope {
        if other.breadth() > self.breadth() {
            other
        } else {
            self
        }
    }

    fn breadth(self) -> u8 {
        match self {
            Scope::Nothing => 0,
            Scope::OnlySelf { .. } => 1,
            Scope::Village { .. } => 2,
            Scope::Township { .. } => 3,
            Scope::Community => 4,
        }
    }

    /// The institution whose assigned residents this scope also covers.
    pub fn assigned_institution(self) -> Option<i64> {
        match self {
            Scope::Village { village_clinic_id } => Some(village_clinic_id),
            Scope::Township { institution_id, .. } => Some(institution_id),
            _ => None,
        }
    }
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// A person on the staff: neither only a resident signed in to their portal nor a machine
    /// account.
    pub fn is_staff(&self) -> bool {
        self.roles.iter().any(|r| {
            !matches!(
                r,
                Role::Resident | Role::Interface | Role::ModalityInterface
            )
        })
    }

    /// A reader at the shared centre that provides `service`: who takes that centre's work.
    pub fn reads_for(&self, service: CentreService) -> bool {
        self.has_role(Role::Reader)
            && self
                .institution
                .is_some_and(|i| i.kind == InstitutionKind::Centre && i.service == Some(service))
    }

    /// The set of residents whose `purpose` data this actor may `access`.
    pub fn scope(&self, purpose: Purpose, access: Access) -> Scope {
        self.roles
            .iter()
            .filter(|role| role.grants(purpose, access))
            .map(|role| self.reach(*role))
            .fold(Scope::Nothing, Scope::widest)
    }

    fn reach(&self, role: Role) -> Scope {
        match role {
            Role::Resident => match self.resident_id {
                Some(resident_id) => Scope::OnlySelf { resident_id },
                None => Scope::Nothing,
            },
            Role::InsuranceOfficer => Scope::Community,
            Role::Supervisor => Scope::Nothing,
            Role::Interface | Role::ModalityInterface => match self.institution {
                // A lab's results may be for any resident of the community, and so may the
                // images of whoever comes to a township's modality.
                Some(_) => Scope::Community,
                None => Scope::Nothing,
            },
            _ => match self.institution {
                None => Scope::Nothing,
                Some(institution) => institution_reach(institution),
            },
        }
    }
}

fn institution_reach(institution: ActorInstitution) -> Scope {
    match institution.kind {
        InstitutionKind::LeadHospital | InstitutionKind::Campus | InstitutionKind::Centre => {
            Scope::Community
        }
        InstitutionKind::TownshipCentre | InstitutionKind::CommunityCentre => {
            match institution.township_id {
                Some(township_id) => Scope::Township {
                    township_id,
                    institution_id: institution.id,
                },
                None => Scope::Nothing,
            }
        }
        InstitutionKind::VillageClinic => Scope::Village {
            village_clinic_id: institution.id,
        },
    }
}

/// Where a resident belongs, as far as scope needs it.
#[derive(Clone, Debug)]
pub struct ResidentPlace {
    pub resident_id: i64,
    pub community_id: i64,
    pub village_clinic_id: i64,
    pub township_id: i64,
    /// Institutions the resident has been referred or assigned to.
    pub assigned_institution_ids: Vec<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct Denied;

/// The one access decision: may `actor` do `access` to `purpose` data of the resident at `place`?
pub fn check(
    actor: &Actor,
    purpose: Purpose,
    access: Access,
    place: &ResidentPlace,
) -> Result<(), Denied> {
    if actor.community_id != place.community_id {
        return Err(Denied);
    }
    if reaches(actor.scope(purpose, access), place) {
        Ok(())
    } else {
        Err(Denied)
    }
}

/// Whether the staff of an institution reach a resident (a doctor there could open the record):
/// where a result for the resident may be sent.
pub fn institution_reaches(institution: ActorInstitution, place: &ResidentPlace) -> bool {
    reaches(institution_reach(institution), place)
}

fn reaches(scope: Scope, place: &ResidentPlace) -> bool {
    let assigned = scope
        .assigned_institution()
        .is_some_and(|id| place.assigned_institution_ids.contains(&id));
    match scope {
        Scope::Nothing => false,
        Scope::OnlySelf { resident_id } => resident_id == place.resident_id,
        Scope::Village { village_clinic_id } => {
            place.village_clinic_id == village_clinic_id || assigned
        }
        Scope::Township { township_id, .. } => place.township_id == township_id || assigned,
        Scope::Community => true,
    }
}

/// May the actor open the work lists (a call list, contracts, enrolments, screening) of
/// `institution`? Their own institution's; township staff also their township's; anyone who
/// sees the whole community, any.
pub fn may_list(actor: &Actor, institution: &crate::institution::Institution) -> bool {
    let own = actor.institution.map(|i| i.id);
    actor.community_id == institution.community_id
        && match actor.scope(Purpose::Clinical, Access::Read) {
            Scope::Nothing | Scope::OnlySelf { .. } => false,
            Scope::Community => true,
            Scope::Township { township_id, .. } => {
                Some(institution.id) == own || institution.township_id == Some(township_id)
            }
            Scope::Village { .. } => Some(institution.id) == own,
        }
}

/// The group's insurance and quality office: insurance officers and supervisors.
pub fn is_office(actor: &Actor) -> bool {
    actor.has_role(Role::InsuranceOfficer) || actor.has_role(Role::Supervisor)
}

/// Who sees every member's part of the group's management (dispatches, assessment): the office
/// and administrators.
pub fn oversees_members(actor: &Actor) -> bool {
    is_office(actor) || actor.has_role(Role::Admin)
}

/// May the actor see community-wide aggregates (counts, indicators)? Supervisors, insurance
/// officers, administrators and county-level staff may.
pub fn may_see_aggregates(actor: &Actor) -> bool {
    actor.roles.iter().any(|role| match role {
        Role::Supervisor | Role::InsuranceOfficer | Role::Admin => true,
        Role::Resident | Role::Interface | Role::ModalityInterface => false,
        _ => actor
            .institution
            .is_some_and(|i| institution_reach(i) == Scope::Community),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: &[Role], institution: Option<ActorInstitution>) -> Actor {
        Actor {
            staff_id: 1,
            community_id: 1,
            username: "u".into(),
            name: "n".into(),
            roles: roles.to_vec(),
            institution,
            resident_id: None,
        }
    }

    fn place(village: i64, township: i64) -> ResidentPlace {
        ResidentPlace {
            resident_id: 9,
            community_id: 1,
            village_clinic_id: village,
            township_id: township,
            assigned_institution_ids: vec![],
        }
    }

    #[test]
    fn a_village_doctor_reaches_only_their_village_unless_assigned() {
        let village = ActorInstitution {
            id: 20,
            kind: InstitutionKind::VillageClinic,
            township_id: Some(10),
            service: None,
        };
        let doctor = actor(&[Role::VillageDoctor], Some(village));
        assert!(check(&doctor, Purpose::Clinical, Access::Read, &place(20, 10)).is_ok());
        assert_eq!(
            check(&doctor, Purpose::Clinical, Access::Read, &place(21, 10)),
            Err(Denied)
        );
        let mut referred = place(21, 10);
        referred.assigned_institution_ids.push(20);
        assert!(check(&doctor, Purpose::Clinical, Access::Read, &referred).is_ok());
    }

    #[test]
    fn an_insurance_officer_sees_money_but_not_clinical_data() {
        let officer = actor(&[Role::InsuranceOfficer], None);
        assert!(check(&officer, Purpose::Financial, Access::Read, &place(1, 2)).is_ok());
        assert!(check(&officer, Purpose::Demographics, Access::Read, &place(1, 2)).is_ok());
        assert_eq!(
            check(&officer, Purpose::Clinical, Access::Read, &place(1, 2)),
            Err(Denied)
        );
    }

    #[test]
    fn a_supervisor_sees_no_individual_resident() {
        let supervisor = actor(&[Role::Supervisor], None);
        assert_eq!(
            check(
                &supervisor,
                Purpose::Demographics,
                Access::Read,
                &place(1, 2)
            ),
            Err(Denied)
        );
        assert!(may_see_aggregates(&supervisor));
    }
}
