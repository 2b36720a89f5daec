"""The Microsoft Teams surface: personal chats, group chats and channel threads -> delivery -> replies.

Built on the Microsoft 365 Agents SDK (`AgentApplication` over the aiohttp `CloudAdapter`, JWT validation
on `/api/messages`). A translator only: a user's message becomes an `Inbound` stored by `Delivery.accept`
before the handler returns, which is when the SDK answers Teams (202). Teams gives up after 15 s, so
nothing slow happens there: the answer goes out proactively from the stored conversation reference
(`TeamsReplySink`), by whichever replica holds the thread's lease.

Conversations: a personal chat or group chat is one ongoing conversation (`teams:{tenant}:{conversation
id}`) until the user writes `new`, which starts the next one (`...#2`, `#3`: a new history and a new
Langfuse session). In a channel every reply chain has its own conversation id, so each is its own
conversation. In group chats and channels the bot answers only when mentioned; the SDK strips the
mention from the text.

Ignored: other bots (`28:` ids), reactions, edits, deletions and every other activity that asks nothing.
`TEAMS_ALLOWED_TENANTS` limits the organisations; others get a polite refusal. Feedback arrives as
Teams' `message/submitAction` invoke (thumbs up/down with an optional comment) and becomes a Langfuse
score and a feedback row through `Engine.record_feedback`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ConversationReference,
    InvokeResponse,
    load_configuration_from_env,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import (
    AgentApplication,
    ClaimsIdentity,
    MemoryStorage,
    TurnContext,
    TurnState,
)
from microsoft_agents.hosting.core.app import RouteRank

from assistant import messages
from assistant.channels import teams_format as fmt
from assistant.channels.base import Inbound, ReplySink, SaveRef
from assistant.channels.teams_sink import TeamsReplySink
from assistant.config import AssistantSettings
from assistant.delivery import Delivery
from assistant.engine import Engine
from assistant.sessions import SessionStore, thread_key_teams
from skillmatch.models import utcnow

log = logging.getLogger(__name__)

PLATFORM = "teams"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
SETTINGS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
HELP_WORDS = frozenset({"help", "hilfe", "?"})
NEW_WORDS = frozenset({"new", "neu", "reset", "/new"})
GENERATION_STATE = "teams_generation"  # on the chat's first conversation: which one is current


def order_key(timestamp: datetime | str | None) -> str:
    """Teams' activity timestamp as a string that sorts like the time (UTC, microseconds)."""
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            timestamp = None
    moment = timestamp or utcnow()
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sdk_configuration(settings: AssistantSettings) -> dict[str, Any]:
    """The SDK's configuration from our settings (which also read `.env`), plus any other
    `CONNECTIONS__...` names from the environment (authority, issuer checks, ...)."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("CONNECTIONS__", "CONNECTIONSMAP__"))}
    if settings.teams_client_id:
        env[f"{SETTINGS_PREFIX}CLIENTID"] = settings.teams_client_id
    if settings.teams_client_secret:
        env[f"{SETTINGS_PREFIX}CLIENTSECRET"] = settings.teams_client_secret.get_secret_value()
    if settings.teams_tenant_id:
        env[f"{SETTINGS_PREFIX}TENANTID"] = settings.teams_tenant_id
    env[f"{SETTINGS_PREFIX}ANONYMOUS_ALLOWED"] = "true" if settings.teams_anonymous else "false"
    return load_configuration_from_env(env)


class TeamsChannel:
    platform = PLATFORM

    def __init__(
        self, settings: AssistantSettings, delivery: Delivery, *, engine: Engine, store: SessionStore
    ):
        if not settings.teams_enabled:
            raise ValueError(
                "Teams needs CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID (or, for local development "
                "only, CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED=true)"
            )
        if settings.teams_anonymous:
            log.warning(
                "TEAMS ANONYMOUS MODE: /api/messages accepts requests without a token. "
                "Local development only (Agents Playground); never expose this instance."
            )
        if settings.teams_jwks_url:
            from microsoft_agents.hosting.core.authorization import _entra_issuers

            _entra_issuers.BOTFRAMEWORK_JWKS_URIS[BOT_FRAMEWORK_ISSUER] = settings.teams_jwks_url
        self.settings = settings
        self.delivery = delivery
        self.engine = engine
        self.store = store
        config = sdk_configuration(settings)
        self.connections = MsalConnectionManager(**config)
        self.adapter = CloudAdapter(connection_manager=self.connections)
        self.adapter.on_turn_error = self._turn_error
        self.agent = AgentApplication[TurnState](
            storage=MemoryStorage(), connection_manager=self.connections, start_typing_timer=False, **config
        )
        self._register()
        delivery.register(self)

    # -- wiring -----------------------------------------------------------------------------------------

    def mount(self, app: web.Application) -> None:
        with warnings.catch_warnings():  # the SDK's JWT check reads this plain string key
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            app["agent_configuration"] = self.connections.get_default_connection_configuration()
        app.router.add_post("/api/messages", jwt_authorization_decorator(self._http))

    async def _http(self, request: web.Request) -> web.StreamResponse:
        response = await self.adapter.process(request, self.agent)
        return response if response is not None else web.Response(status=202)

    def _register(self) -> None:
        self.agent.activity(ActivityTypes.message)(self._on_message)
        self.agent.conversation_update("membersAdded")(self._on_members_added)
        self.agent.invoke("message/submitAction")(self._on_submit_action)
        # Everything else (reactions, edits, deletions, typing, other updates and invokes) asks nothing;
        # a route for it also keeps the SDK from logging "no route" with the message text.
        self.agent.add_route(_not_invoke, self._ignore, rank=RouteRank.LAST)
        self.agent.add_route(_invoke, self._unknown_invoke, is_invoke=True, rank=RouteRank.LAST)
        self.agent.error(self._reactive_error)

    def sink(
        self,
        reply_to: dict[str, Any],
        reply_ref: dict[str, Any] | None,
        save_ref: SaveRef,
        *,
        recovering: bool = False,
    ) -> ReplySink:
        return TeamsReplySink(self, reply_to, reply_ref, save_ref, recovering=recovering)

    async def continue_conversation(
        self, reference: dict[str, Any], callback: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        """Run `callback` with a fresh context in a stored conversation (proactive messaging)."""
        parsed = ConversationReference.model_validate(reference)
        continuation = parsed.get_continuation_activity()
        continuation.id = parsed.activity_id  # replies thread under the user's message, not a random id
        if self.settings.teams_client_id:
            await self.adapter.continue_conversation(self.settings.teams_client_id, continuation, callback)
        else:
            await self.adapter.continue_conversation_with_claims(
                ClaimsIdentity(), continuation, callback, audience=BOT_FRAMEWORK_ISSUER
            )

    # -- activities: translate, store, return (the SDK answers Teams when the handler returns) ---------

    async def _on_message(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        if _from_bot(activity):
            return
        kind = _kind(activity)
        if kind != "personal" and not activity.is_recipient_mentioned():
            return  # group chats and channels: only when asked
        tenant = _tenant(activity)
        if self.settings.allowed_tenants and tenant not in self.settings.allowed_tenants:
            await self._say(context, messages.refusal_text("tenant"))
            return
        text = (activity.text or "").strip()
        word = text.lower().strip(" .!")
        if word in HELP_WORDS:
            await self._say(context, fmt.help_text())
            return
        base = thread_key_teams(tenant, activity.conversation.id)
        if word in NEW_WORDS and kind != "channel":
            await asyncio.to_thread(self._start_new_conversation, base, _user(activity))
            await self._say(context, fmt.new_conversation_text())
            return
        if _has_files(activity):
            await self._say(context, messages.file_share_text())
            if not text:
                return
        key = await asyncio.to_thread(self._current_thread_key, base) if kind != "channel" else base
        reference = activity.get_conversation_reference().model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        await self.delivery.accept(
            Inbound(
                platform=PLATFORM,
                event_id=f"act:{activity.conversation.id}:{activity.id}",
                thread_key=key,
                user_id=_user(activity),
                text=text,
                order_key=order_key(activity.timestamp),
                reply_to={"reference": reference, "kind": kind},
            )
        )

    async def _on_members_added(self, context: TurnContext, state: TurnState) -> None:
        activity = context.activity
        me = activity.recipient.id if activity.recipient else None
        if any(member.id == me for member in activity.members_added or []):
            await self._say(context, fmt.welcome_text(_kind(activity)))

    async def _on_submit_action(self, context: TurnContext, state: TurnState) -> None:
        """Teams' feedback loop: `value.actionName == "feedback"`, a reaction and an optional comment."""
        activity = context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        if value.get("actionName") == "feedback" and activity.reply_to_id:
            action = value.get("actionValue") or {}
            comment = _feedback_comment(action.get("feedback"))
            base = thread_key_teams(_tenant(activity), activity.conversation.id)
            trace_id = await asyncio.to_thread(
                self.delivery.inbox.trace_of_posted, base, activity.reply_to_id
            )
            if trace_id is not None:
                await self.engine.record_feedback(
                    PLATFORM,
                    trace_id,
                    _user(activity),
                    positive=action.get("reaction") == "like",
                    comment=comment,
                )
            else:
                log.info("teams: feedback on a message that is not one of our answers")
        await context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
        )

    async def _unknown_invoke(self, context: TurnContext, state: TurnState) -> None:
        await context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
        )

    async def _ignore(self, context: TurnContext, state: TurnState) -> None:
        """Reactions, edits, deletions, typing: nothing to answer."""

    async def _reactive_error(self, context: TurnContext, error: Exception) -> None:
        # Never the SDK's default ("Exception caught : <internals>") in the user's chat.
        log.error("teams: handling an activity failed: %s", type(error).__name__)
        raise error

    async def _turn_error(self, context: TurnContext, error: Exception) -> None:
        raise error  # proactive sends: the delivery layer decides (retry, apology), not the SDK

    async def _say(self, context: TurnContext, text: str) -> None:
        """A short, immediate reply (help, refusal, welcome): cheap enough to send before the 202."""
        activity = Activity.model_validate(fmt.text_activity(fmt.markdown_to_teams(text), ai_generated=False))
        try:
            await asyncio.wait_for(context.send_activity(activity), timeout=self.settings.teams_send_timeout)
        except Exception as exc:
            log.warning("teams: a short reply failed: %s", type(exc).__name__)

    # -- `new`: the next conversation of a personal or group chat ------------------------------------------

    def _current_thread_key(self, base: str) -> str:
        first = self.store.find(base)
        generation = int(first.state.get(GENERATION_STATE, 1)) if first is not None else 1
        return thread_key_teams_generation(base, generation)

    def _start_new_conversation(self, base: str, user: str | None) -> None:
        first = self.store.open(base, platform=PLATFORM, user_id=user)
        generation = int(first.state.get(GENERATION_STATE, 1)) + 1
        self.store.set_state(first.id, {**first.state, GENERATION_STATE: generation})


def thread_key_teams_generation(base: str, generation: int) -> str:
    """The first conversation keeps the plain key (DESIGN.md); later ones count on."""
    return base if generation <= 1 else f"{base}#{generation}"


def _invoke(context: TurnContext) -> bool:
    return context.activity.type == ActivityTypes.invoke


def _not_invoke(context: TurnContext) -> bool:
    return context.activity.type != ActivityTypes.invoke


def _kind(activity: Activity) -> str:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind if kind in ("personal", "channel", "groupChat") else "personal"


def _tenant(activity: Activity) -> str:
    tenant = activity.conversation.tenant_id if activity.conversation else None
    if not tenant and isinstance(activity.channel_data, dict):
        tenant = (activity.channel_data.get("tenant") or {}).get("id")
    return str(tenant or "")


def _user(activity: Activity) -> str | None:
    sender = activity.from_property
    if sender is None:
        return None
    return sender.aad_object_id or sender.id


def _from_bot(activity: Activity) -> bool:
    sender = activity.from_property
    sender_id = sender.id if sender else ""
    own = activity.recipient.id if activity.recipient else None
    return bool(sender_id) and (sender_id.startswith("28:") or sender_id == own)


def _has_files(activity: Activity) -> bool:
    return any(
        (a.content_type or "").startswith("application/vnd.microsoft.teams.file")
        for a in activity.attachments or []
    )


def _feedback_comment(raw: Any) -> str | None:
    """Teams sends the comment as a JSON string: `{"feedbackText": "..."}`."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return raw or None
    if isinstance(raw, dict):
        text = raw.get("feedbackText")
        return str(text) if text else None
    return None
