"""The tables service's use cases over its aggregates: the ``PartnershipTable``, its
``Initiative``s and its ``BudgetingRound``s."""

from __future__ import annotations

from domain.calendar import local_today
from domain.catalogue import Catalogue
from domain.errors import WrongState
from domain.tables.table import PartnershipTable, table_key
from services.platform.catalogue import check_scope, load_catalogue
from services.platform.errors import NotFound
from services.platform.settings import Settings
from services.platform.store import Receipt, ServiceApplication
from services.tables.commands import NewTable


class TablesApplication(ServiceApplication):
    service = "tables"

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, env)
        self.catalogue = catalogue or load_catalogue()

    def found(self, command: NewTable) -> Receipt:
        """An admin founds a table; a code taken already is refused."""
        if self.table_or_none(command.table_id) is not None:
            raise WrongState(f"the table {command.table_id} is founded already", rule="table_id")
        check_scope(self.catalogue, [], command.regions)
        table = PartnershipTable.found(
            table_id=command.table_id,
            name=command.name,
            regions=command.regions,
            coordinator=command.coordinator,
            founded_on=command.founded_on or local_today(),
            coordinator_share_percent=command.coordinator_share_percent,
            coordinator_yearly_cost_cents=command.coordinator_yearly_cost_cents,
            yearly_budget_cents=command.yearly_budget_cents,
            meeting_fee_cents=command.meeting_fee_cents,
            meetings_per_year=command.meetings_per_year,
            support_threshold=command.support_threshold,
            answer_days=command.answer_days,
        )
        return Receipt(table.table_id, self.commit(table))

    def get_table(self, table_id: str) -> PartnershipTable:
        table = self.table_or_none(table_id)
        if table is None:
            raise NotFound.of("partnership table", table_id)
        return table

    def table_or_none(self, table_id: str) -> PartnershipTable | None:
        try:
            return self.get(table_key(table_id), "partnership table")
        except NotFound:
            return None
