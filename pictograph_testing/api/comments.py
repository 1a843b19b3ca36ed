"""``/api/v1/developer/annotation-comments``: comments on an image's annotations.

Replies are bare: one comment under ``comment``, an image's under ``comments`` (oldest
first), a delete's ``{"success": true, "id": ...}``. Every release since the resource
arrived (1.56.0) sends the same wire: the image by its id (the SDK resolves a dataset
and filename first, from 1.69.30), the annotation by its id. Threads, reactions and soft
deletes arrived with 1.69.70; the releases before it read a listing without the deleted
comments (``dialects.COMMENTS_HARD_DELETED``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import COMMENTS_HARD_DELETED, Wire
from pictograph_testing.api.images import org_image
from pictograph_testing.api.spec import Bool, Field, Obj, Param, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.world.comments import REACTIONS, username
from pictograph_testing.world.errors import NotFound

if TYPE_CHECKING:
    from pictograph_testing.world.comments import Comment
    from pictograph_testing.world.entities import Image
    from pictograph_testing.world.members import Member

__all__: list[str] = []

_BODY = Str(not_blank=True, example="Is this a yield sign? @noah")


def _image(call: Call, image_id: str) -> Image:
    """The caller's organization's image (another organization's is a 404 too)."""
    image = org_image(call, image_id)
    if image is None:
        raise NotFound(f"Image '{image_id}' not found")
    return image


def _row(call: Call, comment: Comment, people: dict[str, Member]) -> dict[str, Any]:
    """The ``AnnotationComment`` object, as the caller sees it (``is_mine``, ``reacted``)."""
    me = call.key.created_by
    author = people.get(comment.user_id)
    resolver = people.get(comment.resolved_by) if comment.resolved_by is not None else None
    return {
        "id": comment.id,
        "image_id": comment.image_id,
        "annotation_id": comment.annotation_id,
        "body": comment.body,
        "resolved": comment.resolved,
        "parent_comment_id": comment.parent_id,
        "is_edited": comment.is_edited,
        "is_deleted": comment.is_deleted,
        "resolved_by": comment.resolved_by,
        "resolved_by_name": resolver.full_name if resolver is not None else None,
        "resolved_at": call.iso(comment.resolved_at),
        "created_at": call.iso(comment.created_at),
        "updated_at": call.iso(comment.updated_at),
        "user_id": comment.user_id,
        "author_name": author.full_name if author is not None else None,
        "author_username": username(author) if author is not None else None,
        "author_avatar_url": None,
        "is_mine": comment.user_id == me,
        "reactions": [
            {"reaction": key, "count": len(people_), "reacted": me in people_}
            for key in REACTIONS
            if (people_ := comment.reactions.get(key))
        ],
    }


def _one(call: Call, comment: Comment) -> Reply:
    people = call.world.comments.people_by_user(comment.organization_id)
    return reply({"comment": _row(call, comment, people)})


def _without_deleted(payload: Any) -> Any:
    payload["comments"] = [c for c in payload["comments"] if not c["is_deleted"]]
    return payload


@endpoint(
    "GET",
    "annotation-comments",
    summary="Every comment on an image's annotations, oldest first (deleted ones in place)",
    sdk=("annotation_comments.list",),
    reply=Bare("AnnotationCommentList"),
    query=(
        Param(
            "image_id",
            Str(min_length=1),
            required=True,
            description="The image's id (the SDK resolves a dataset and filename to it).",
        ),
    ),
    wires=(
        Wire(
            COMMENTS_HARD_DELETED,
            rewrite=_without_deleted,
            note="deleted comments left out (the API deleted them outright)",
        ),
    ),
)
def list_comments(call: Call) -> Reply:
    image = _image(call, call.args["image_id"])
    service = call.world.comments
    people = service.people_by_user(image.organization_id)
    return reply({"comments": [_row(call, c, people) for c in service.of_image(image)]})


@endpoint(
    "POST",
    "annotation-comments",
    summary="Comment on an annotation, or reply in a thread (a reply to a reply joins its root)",
    sdk=("annotation_comments.create", "annotation_comments.reply"),
    reply=Bare("AnnotationCommentReply"),
    body=Obj(
        {
            "image_id": Field(Str(min_length=1), required=True),
            "annotation_id": Field(Str(min_length=1), required=True),
            "body": Field(_BODY, required=True),
            "parent_comment_id": Field(Str(min_length=1), nullable=True),
        }
    ),
    role="member",
    action="comment on annotations",
    errors=(403, 404),
)
def create(call: Call) -> Reply:
    body = call.fields()
    image = _image(call, body["image_id"])
    comment = call.world.comments.create(
        call.key,
        image,
        body["annotation_id"],
        body["body"],
        body.get("parent_comment_id"),
    )
    return _one(call, comment)


@endpoint(
    "PATCH",
    "annotation-comments/{comment_id}",
    summary="Edit a comment's body (its author only) and/or resolve or reopen it",
    sdk=("annotation_comments.update", "annotation_comments.resolve"),
    reply=Bare("AnnotationCommentReply"),
    body=Obj(
        {
            "body": Field(_BODY, nullable=True),
            "resolved": Field(Bool(), nullable=True),
        },
        at_least_one="value",
    ),
    role="member",
    action="edit or resolve comments",
    errors=(403, 404),
)
def update(call: Call) -> Reply:
    body = call.fields()
    comment = call.world.comments.update(
        call.key,
        call.path_args["comment_id"],
        body=body.get("body"),
        resolved=body.get("resolved"),
    )
    return _one(call, comment)


@endpoint(
    "DELETE",
    "annotation-comments/{comment_id}",
    summary="Delete a comment (its author, an admin or an owner): it keeps its place, emptied",
    sdk=("annotation_comments.delete",),
    reply=Bare("AnnotationCommentDeleted"),
    role="member",
    action="delete comments",
    errors=(403, 404),
)
def delete(call: Call) -> Reply:
    comment = call.world.comments.delete(call.key, call.path_args["comment_id"])
    return reply({"success": True, "id": comment.id})


@endpoint(
    "PUT",
    "annotation-comments/{comment_id}/reactions/{reaction}",
    summary="Add the caller's reaction to a comment (once per person and key)",
    sdk=("annotation_comments.react",),
    reply=Bare("AnnotationCommentReply"),
    role="member",
    action="react to comments",
    errors=(403, 404, 422),
)
def react(call: Call) -> Reply:
    args = call.path_args
    comment = call.world.comments.react(call.key, args["comment_id"], args["reaction"], on=True)
    return _one(call, comment)


@endpoint(
    "DELETE",
    "annotation-comments/{comment_id}/reactions/{reaction}",
    summary="Take back the caller's reaction to a comment (none to take back: no change)",
    sdk=("annotation_comments.unreact",),
    reply=Bare("AnnotationCommentReply"),
    role="member",
    action="react to comments",
    errors=(403, 404, 422),
)
def unreact(call: Call) -> Reply:
    args = call.path_args
    comment = call.world.comments.react(call.key, args["comment_id"], args["reaction"], on=False)
    return _one(call, comment)
