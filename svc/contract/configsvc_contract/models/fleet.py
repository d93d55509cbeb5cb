"""The fleet: who runs what (GET .../clients), as the clients' hellos and acks report it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ClientRejection(BaseModel):
    configuration_id: str
    version: int
    reason: str | None = None
    at: str = Field(description="When the server received the rejection (ISO 8601).")


class FleetClient(BaseModel):
    """One subscription of one client socket, as its worker last reported it."""

    client_id: str | None = Field(description="From the client's hello; null without one.")
    labels: dict[str, str]
    sdk: str | None
    remote_addr: str | None
    worker: str = Field(description="host:pid of the worker holding the socket.")
    connected: bool
    connected_at: datetime
    disconnected_at: datetime | None = None
    delivered_revision: int
    applied_revision: int | None = Field(description="From the client's acks; null without.")
    lag: int | None = Field(description="The application's head revision minus applied.")
    rejections: list[ClientRejection]


class FleetClients(BaseModel):
    items: list[FleetClient]


class ClientsSummary(BaseModel):
    """Connected subscribers of a configuration's application, by what they run."""

    versions: dict[str, int] = Field(description="Applied version -> clients.")
    rejected: dict[str, int] = Field(description="Rejected version -> clients.")
    unknown: int = Field(description="Connected clients that never acked this configuration.")
