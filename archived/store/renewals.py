"""Timestamp renewals of stored archives: each link of an archive's timestamp chain (the reply and its certificate
chain, kept in the store) and where each renewal's sidecar objects are stored.

Link 0 is the archive's own timestamp (`timestamps/tagmanifest-sha512.txt.tsr` inside the bag), recorded the first
time a renewal needs it; link n (n ≥ 1) is a timestamp over the bytes of link n-1's reply, stored next to the
archive as sidecar objects (`archived.archive.renewal`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from archived.store.database import Database


@dataclass(frozen=True)
class RenewalCopy:
    """Where one renewal's sidecars are stored on one target."""

    target: str
    reply_location: str
    chain_location: str
    stored_at: float
    deleted_at: float | None = None


@dataclass
class ChainLink:
    """One timestamp of an archive's chain: number 0 is the archive's own, each later one stamps the one before."""

    id: int
    artifact_id: int
    number: int
    reply: bytes
    chain: bytes
    stamped_sha512: str  # of what it stamps: the tag manifest (link 0) or the previous link's reply
    gen_time: float
    authority: str
    holds_until: float | None  # when the certificates that check it expire (renewal is due before)
    created_at: float
    copies: list[RenewalCopy] = field(default_factory=list)


class RenewalStore:
    """Reads and writes the links of archives' timestamp chains and their stored copies."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def chain(self, artifact_id: int) -> list[ChainLink]:
        """Every recorded link of an archive's chain, in order, with the copies of each."""
        async with self.db.connection.execute(
            "SELECT id, artifact_id, number, reply, chain, stamped_sha512, gen_time, authority, holds_until, "
            "created_at FROM timestamp_renewals WHERE artifact_id = ? ORDER BY number",
            (artifact_id,),
        ) as cur:
            links = [ChainLink(*row) for row in await cur.fetchall()]
        for link in links:
            async with self.db.connection.execute(
                "SELECT target, reply_location, chain_location, stored_at, deleted_at FROM renewal_copies "
                "WHERE renewal_id = ? ORDER BY target",
                (link.id,),
            ) as cur:
                link.copies = [RenewalCopy(*row) for row in await cur.fetchall()]
        return links

    async def add_link(
        self,
        artifact_id: int,
        number: int,
        *,
        reply: bytes,
        chain: bytes,
        stamped_sha512: str,
        gen_time: float,
        authority: str,
        holds_until: float | None,
    ) -> ChainLink:
        """Record a link (before its sidecars are written anywhere: the store is the record of what was asked)."""
        now = time.time()
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO timestamp_renewals (artifact_id, number, reply, chain, stamped_sha512, gen_time, "
                "authority, holds_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (artifact_id, number, reply, chain, stamped_sha512, gen_time, authority, holds_until, now),
            )
        return ChainLink(cursor.lastrowid or 0, artifact_id, number, reply, chain, stamped_sha512, gen_time,
                         authority, holds_until, now)  # fmt: skip

    async def add_copy(self, renewal_id: int, copy: RenewalCopy) -> None:
        """Record that a renewal's sidecars were stored (and verified) on a target."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO renewal_copies (renewal_id, target, reply_location, chain_location, stored_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (renewal_id, target) DO UPDATE SET "
                "reply_location = excluded.reply_location, chain_location = excluded.chain_location, "
                "stored_at = excluded.stored_at, deleted_at = NULL",
                (renewal_id, copy.target, copy.reply_location, copy.chain_location, copy.stored_at),
            )
