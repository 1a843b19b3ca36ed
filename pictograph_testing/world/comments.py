"""Comments on annotations: threads, resolution, reactions and mentions (no HTTP here).

A comment belongs to one annotation of one image of the caller's organization and is
written by the member whose API key sent it. Threads are two levels deep, as the SDK
documents: a reply to a reply joins the thread of that reply's root. Only the author edits
a comment's body; the author or an admin or owner deletes it, softly: it keeps its place
in its thread, with an empty body. Anyone who may comment resolves or reopens a thread's
comments. Reactions are a set per person: reacting twice counts once.

Each image's comments are kept oldest first in an index of their own, so listing one
image's comments, or dropping them with the image, never scans another image's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pictograph_testing.world.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    field_error,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pictograph_testing.world.entities import ApiKey, Image
    from pictograph_testing.world.members import Member
    from pictograph_testing.world.state import World

__all__ = [
    "MENTION_KIND",
    "REACTIONS",
    "Comment",
    "CommentService",
    "username",
]

REACTIONS = ("like", "dislike", "love", "celebrate", "exclamation", "question", "haha")
"""The reaction keys the API accepts (``AnnotationComments.REACTIONS`` in the SDK), in
the order a comment's tallies are listed."""
MENTION_KIND = "comment_mention"
"""The notification a ``@username`` in a comment's body posts for that member (a
notification only: no webhook event type stands for it)."""
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9][\w.+-]*)")
"""``@name`` not inside an email address; a trailing ``.`` ends a sentence, not a name."""
_DELETERS = ("admin", "owner")
"""Key roles that delete anyone's comment (the SDK: "the author, or an org admin/owner")."""


@dataclass
class Comment:
    """One comment on an annotation, a thread's root or a reply in it."""

    id: str
    organization_id: str
    dataset_id: str
    image_id: str
    annotation_id: str
    user_id: str
    body: str
    created_at: float
    updated_at: float
    parent_id: str | None = None
    resolved: bool = False
    resolved_by: str | None = None
    resolved_at: float | None = None
    is_edited: bool = False
    is_deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    """Who reacted with each key, in the order they reacted (each person once)."""


def username(member: Member) -> str | None:
    """The name a member is mentioned by: their email's local part."""
    return member.email.split("@", 1)[0].lower() if member.email else None


class CommentService:
    """Keep every comment, indexed per image (oldest first), and apply the API's rules."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.comments: dict[str, Comment] = {}
        self._by_image: dict[str, list[str]] = {}
        """Each image's comment ids, oldest first (creation order is the list order)."""

    @property
    def holds_state(self) -> bool:
        """Whether any comment was made (a snapshot cannot keep one yet)."""
        return bool(self.comments)

    # ── reads ──

    def of_image(self, image: Image) -> list[Comment]:
        """The image's comments, oldest first, soft-deleted ones in their places."""
        return [self.comments[i] for i in self._by_image.get(image.id, ())]

    def find(self, key: ApiKey, comment_id: str) -> Comment:
        """The caller's organization's comment, or 404 (another organization's too)."""
        found = self.comments.get(comment_id.strip().lower())
        if found is None or found.organization_id != key.organization_id:
            raise NotFound(f"Comment '{comment_id}' not found")
        return found

    def _live(self, key: ApiKey, comment_id: str) -> Comment:
        comment = self.find(key, comment_id)
        if comment.is_deleted:
            raise NotFound(f"Comment '{comment_id}' was deleted")
        return comment

    # ── writes: every rule is checked before anything changes ──

    def create(
        self,
        key: ApiKey,
        image: Image,
        annotation_id: str,
        body: str,
        parent_comment_id: str | None = None,
    ) -> Comment:
        """Comment on one of the image's annotations, or reply in a thread on it."""
        if not any(a.get("id") == annotation_id for a in image.annotations):
            raise NotFound(
                f"Annotation '{annotation_id}' not found on image '{image.filename}': comment "
                "on one of the ids annotations.get lists for it."
            )
        parent = None
        if parent_comment_id is not None:
            parent = self._live(key, parent_comment_id)
            if parent.image_id != image.id:
                raise InvalidRequest(
                    f"Comment '{parent_comment_id}' is on another image: reply on the image "
                    "of the comment you answer.",
                    errors=[
                        field_error(
                            ("body", "parent_comment_id"),
                            "Parent is on another image",
                            "value_error",
                        )
                    ],
                )
            if parent.annotation_id != annotation_id:
                raise InvalidRequest(
                    f"Comment '{parent_comment_id}' is on annotation '{parent.annotation_id}', "
                    f"not '{annotation_id}': a reply is on its thread's annotation.",
                    errors=[
                        field_error(
                            ("body", "annotation_id"),
                            f"Must be '{parent.annotation_id}'",
                            "value_error",
                        )
                    ],
                )
            # Two levels: a reply to a reply joins its root's thread, which takes no reply
            # once its root was deleted (as a reply to the root itself is refused).
            if parent.parent_id is not None:
                parent = self.comments[parent.parent_id]
                if parent.is_deleted:
                    raise NotFound(
                        f"Comment '{parent_comment_id}' is in the thread of comment "
                        f"'{parent.id}', which was deleted: its thread takes no replies."
                    )
        world = self._world
        now = world.now()
        comment = Comment(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            dataset_id=image.dataset_id,
            image_id=image.id,
            annotation_id=annotation_id,
            user_id=key.created_by,
            body=body,
            created_at=now,
            updated_at=now,
            parent_id=parent.id if parent is not None else None,
        )
        self.comments[comment.id] = comment
        self._by_image.setdefault(image.id, []).append(comment.id)
        self._mention(comment, image)
        return comment

    def update(
        self, key: ApiKey, comment_id: str, *, body: str | None, resolved: bool | None
    ) -> Comment:
        """Edit the body (its author only) and/or resolve or reopen the comment."""
        comment = self._live(key, comment_id)
        if body is not None and comment.user_id != key.created_by:
            raise Forbidden(
                "Only the comment's author can edit its body; resolve it, or reply, instead."
            )
        now = self._world.now()
        if body is not None and body != comment.body:
            before = comment.body
            comment.body = body
            comment.is_edited = True
            comment.updated_at = now
            self._mention(comment, self._world.images[comment.image_id], already=before)
        if resolved is not None and resolved != comment.resolved:
            comment.resolved = resolved
            comment.resolved_by = key.created_by if resolved else None
            comment.resolved_at = now if resolved else None
            comment.updated_at = now
        return comment

    def delete(self, key: ApiKey, comment_id: str) -> Comment:
        """Delete softly: the comment keeps its place in its thread, its body emptied."""
        comment = self._live(key, comment_id)
        if comment.user_id != key.created_by and key.role not in _DELETERS:
            raise Forbidden(
                f"This API key's role '{key.role}' cannot delete another member's comment; "
                "only its author, an admin or an owner can."
            )
        comment.is_deleted = True
        comment.body = ""
        comment.reactions.clear()
        comment.updated_at = self._world.now()
        return comment

    def react(self, key: ApiKey, comment_id: str, reaction: str, *, on: bool) -> Comment:
        """Add (``on``) or take back the caller's reaction; either, done twice, is one."""
        check_reaction(reaction)
        comment = self._live(key, comment_id)
        people = comment.reactions.get(reaction, [])
        user = key.created_by
        if on and user not in people:
            comment.reactions[reaction] = [*people, user]
        elif not on and user in people:
            people.remove(user)
            if not people:
                del comment.reactions[reaction]
        return comment

    def forget_images(self, image_ids: Iterable[str]) -> None:
        """Drop the comments of images deleted for good (their datasets' included)."""
        for image_id in image_ids:
            for comment_id in self._by_image.pop(image_id, ()):
                del self.comments[comment_id]

    def adopt(self, comment: Comment) -> None:
        """Add a comment made elsewhere (a scenario's), after the image's others."""
        self.comments[comment.id] = comment
        self._by_image.setdefault(comment.image_id, []).append(comment.id)

    # ── mentions ──

    def _mention(self, comment: Comment, image: Image, *, already: str = "") -> None:
        """Notify each member a ``@username`` in the body names (the author never).

        An edit notifies only the names its earlier body did not mention: the others
        were told when they were first mentioned.
        """
        names = _mentioned(comment.body) - _mentioned(already)
        if not names:
            return
        world = self._world
        author = self.author(comment)
        by = (author.full_name or username(author)) if author is not None else "Someone"
        dataset = world.datasets[comment.dataset_id]
        for member in world.people.roster(comment.organization_id):
            if username(member) in names and member.user_id != comment.user_id:
                world.feeds.notify(
                    comment.organization_id,
                    MENTION_KIND,
                    f"{by} mentioned you in a comment",
                    at=world.now(),
                    message=comment.body,
                    metadata={
                        "comment_id": comment.id,
                        "image_id": image.id,
                        "dataset_id": dataset.id,
                        "dataset_name": dataset.name,
                        "annotation_id": comment.annotation_id,
                    },
                    user_id=member.user_id,
                )

    def author(self, comment: Comment) -> Member | None:
        """The member who wrote the comment, while they are one."""
        return self.people_by_user(comment.organization_id).get(comment.user_id)

    def people_by_user(self, organization_id: str) -> dict[str, Member]:
        """The organization's members by user id (to name the authors of a page once)."""
        return {m.user_id: m for m in self._world.people.roster(organization_id)}


def _mentioned(body: str) -> set[str]:
    return {name.lower().rstrip(".") for name in _MENTION.findall(body)}


def check_reaction(reaction: str) -> None:
    """Refuse a reaction key the API does not accept, naming the ones it does."""
    if reaction not in REACTIONS:
        raise InvalidRequest(
            f"Unknown reaction '{reaction}': use one of {', '.join(REACTIONS)}.",
            errors=[
                field_error(
                    ("path", "reaction"),
                    f"Input should be {', '.join(repr(r) for r in REACTIONS)}",
                    "enum",
                )
            ],
        )
