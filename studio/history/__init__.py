"""Session history: the ledger merged with the account's avatar conversations, as tables, figures.

Neither part knows about the UI:

- pure functions over rows and frames: `words` (how one value reads), `filters` (what a viewer
  selects), `frames` (rows → one merged frame → the table, or a CSV), `figures` (sums over
  sessions, the account's usage and limits), `details` (one session in full);
- shared, server-side data: `caches` (conversations, the ledger mirror, shared upstream values)
  and `service.History`, which bundles them for the Sessions and Usage tabs.

Times are epoch seconds from the studio's clock; the "day" is the UTC day, as for the guards.
"""

from __future__ import annotations

from studio.history.caches import ConversationsCache, KeyedLocks, LedgerMirror, SharedValue
from studio.history.details import SessionDetails, session_details
from studio.history.figures import (
    AccountLimits,
    Figures,
    account_limits,
    estimated_spend,
    session_figures,
    usage_by_day,
)
from studio.history.filters import Filters, filter_mask, of_client, parse_when, select_sessions
from studio.history.frames import (
    DEFAULT_LIMIT,
    NUMBER_COLUMNS,
    RAW_COLUMNS,
    TABLE_COLUMNS,
    conversations_frame,
    display_frame,
    empty_frame,
    ledger_frame,
    merge_sessions,
    seconds_used,
    sessions_frame,
    spreadsheet_safe,
)
from studio.history.service import History, SessionsView
from studio.history.words import (
    ELSEWHERE,
    STUDIO,
    avatar_label,
    avatar_names,
    clock_duration,
    epoch,
    failure_text,
    iso_utc,
    utc_day_start,
)

__all__ = [
    "DEFAULT_LIMIT", "ELSEWHERE", "NUMBER_COLUMNS", "RAW_COLUMNS", "STUDIO", "TABLE_COLUMNS",
    "AccountLimits", "ConversationsCache", "Figures", "Filters", "History", "KeyedLocks",
    "LedgerMirror", "SessionDetails", "SessionsView", "SharedValue", "account_limits",
    "avatar_label", "avatar_names", "clock_duration", "conversations_frame", "display_frame",
    "empty_frame", "epoch", "estimated_spend", "failure_text", "filter_mask", "iso_utc",
    "ledger_frame", "merge_sessions", "of_client", "parse_when", "seconds_used",
    "select_sessions", "session_details", "session_figures", "sessions_frame", "spreadsheet_safe",
    "usage_by_day", "utc_day_start",
]
