"""The tables service's domain events, as the integration events others read."""

from __future__ import annotations

from contracts import events as e
from domain.tables.expenses import CommonExpenses
from domain.tables.initiative import Initiative
from domain.tables.round import BudgetingRound
from domain.tables.table import PartnershipTable
from services.platform.outbound import translation

to_integration_event = translation(
    {
        PartnershipTable.Founded: (e.TableFoundedV1, None),
        PartnershipTable.CoordinatorAppointed: (e.TableCoordinatorAppointedV1, None),
        PartnershipTable.MemberJoined: (e.TableMemberJoinedV1, None),
        PartnershipTable.MemberLeft: (e.TableMemberLeftV1, None),
        PartnershipTable.BudgetSet: (e.TableBudgetSetV1, None),
        PartnershipTable.MeetingPlanned: (e.MeetingPlannedV1, None),
        PartnershipTable.MeetingHeld: (e.MeetingHeldV1, None),
        PartnershipTable.FeesPaid: (e.MeetingFeesPaidV1, None),
        PartnershipTable.EventPlanned: (e.TableEventPlannedV1, None),
        PartnershipTable.EventHeld: (e.TableEventHeldV1, None),
        PartnershipTable.FundsEarmarked: (e.TableFundsEarmarkedV1, None),
        PartnershipTable.FundsReleased: (e.TableFundsReleasedV1, None),
        Initiative.Raised: (e.InitiativeRaisedV1, "initiative_id"),
        Initiative.Supported: (e.InitiativeSupportedV1, "initiative_id"),
        Initiative.Discussed: (e.InitiativeDiscussedV1, "initiative_id"),
        Initiative.Forwarded: (e.InitiativeForwardedV1, "initiative_id"),
        Initiative.Answered: (e.InitiativeAnsweredV1, "initiative_id"),
        Initiative.Implemented: (e.InitiativeImplementedV1, "initiative_id"),
        Initiative.Closed: (e.InitiativeClosedV1, "initiative_id"),
        Initiative.ProgrammeFunded: (e.ProgrammeFundedV1, "initiative_id"),
        BudgetingRound.Opened: (e.RoundOpenedV1, "round_id"),
        BudgetingRound.Advanced: (e.RoundAdvancedV1, "round_id"),
        BudgetingRound.ProposalMade: (e.ProposalMadeV1, "round_id"),
        BudgetingRound.ProposalReviewed: (e.ProposalReviewedV1, "round_id"),
        BudgetingRound.ProposalSelected: (e.ProposalSelectedV1, "round_id"),
        BudgetingRound.BallotCast: (e.BallotCastV1, "round_id"),
        BudgetingRound.Tallied: (e.RoundTalliedV1, "round_id"),
        CommonExpenses.Recorded: (e.CommonExpenseRecordedV1, None),
    }
)
