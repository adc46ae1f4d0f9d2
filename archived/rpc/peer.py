"""Who is on the other end of the socket (SO_PEERCRED), and may they change things?"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import socket
import struct
from dataclasses import dataclass

from archived.config import AccessConfig


@dataclass(frozen=True)
class Peer:
    """The credentials of a connected client process, as the kernel reports them."""

    pid: int
    uid: int
    gid: int

    @property
    def username(self) -> str:
        """The user's name, or the uid as text."""
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return str(self.uid)

    def group_ids(self) -> set[int]:
        """Primary and supplementary groups of the peer's user."""
        groups = {self.gid}
        with contextlib.suppress(KeyError):
            groups.update(os.getgrouplist(pwd.getpwuid(self.uid).pw_name, self.gid))
        return groups


def peer_of(sock: socket.socket) -> Peer:
    """Read SO_PEERCRED of a connected Unix socket."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def _uid_of(user: str | int) -> int | None:
    if isinstance(user, int):
        return user
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def _gid_of(group: str | int) -> int | None:
    if isinstance(group, int):
        return group
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


class AccessPolicy:
    """Decides whether a peer may make mutating calls; everyone who can open the socket may read."""

    def __init__(self, config: AccessConfig, *, daemon_uid: int | None = None) -> None:
        self.uids = {uid for uid in map(_uid_of, config.operator_users) if uid is not None}
        self.gids = {gid for gid in map(_gid_of, config.operator_groups) if gid is not None}
        if config.allow_daemon_user:
            self.uids.add(os.getuid() if daemon_uid is None else daemon_uid)

    def may_mutate(self, peer: Peer) -> bool:
        """True if the peer is a configured operator (by user or group)."""
        return peer.uid in self.uids or bool(peer.group_ids() & self.gids)
