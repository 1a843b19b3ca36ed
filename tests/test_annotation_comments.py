"""Annotation comments through the real SDK: threads two levels deep, edits by the author
only, resolve and reopen, soft deletes, reactions as a set per person, mentions that
notify, and comments that go with their image or dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import ForbiddenError, NotFoundError, ValidationError

from pictograph_testing.world.comments import MENTION_KIND, REACTIONS
from tests.conftest import DATASET
from tests.image_files import raw

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _target(client: pictograph.Client, index: int = 0) -> tuple[str, str]:
    """An image's filename and the id of its first annotation."""
    image = client.images.list(DATASET, status="complete")[index]
    return image.filename, client.annotations.get(DATASET, image.filename)[0].id


def test_a_thread_lists_oldest_first_and_a_reply_to_a_reply_joins_the_root(
    client: pictograph.Client,
) -> None:
    filename, annotation = _target(client)
    root = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="Is this a yield sign?"
    )
    reply = client.annotation_comments.reply(
        DATASET, filename, annotation_id=annotation, parent_comment_id=root.id, body="Yes."
    )
    deeper = client.annotation_comments.reply(
        DATASET, filename, annotation_id=annotation, parent_comment_id=reply.id, body="Agreed."
    )
    assert (reply.parent_comment_id, deeper.parent_comment_id) == (root.id, root.id)
    assert root.is_mine
    assert root.author_name
    assert root.user_id
    listed = client.annotation_comments.list(DATASET, filename)
    assert [c.id for c in listed] == [root.id, reply.id, deeper.id]
    other, _ = _target(client, 1)
    assert client.annotation_comments.list(DATASET, other) == []


def test_edit_resolve_and_reopen(fake: FakePictograph, client: pictograph.Client) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="tighten this"
    )
    fake.clock.advance(60)
    edited = client.annotation_comments.update(made.id, body="tighten the left edge")
    assert (edited.body, edited.is_edited) == ("tighten the left edge", True)
    assert edited.updated_at is not None
    assert made.updated_at is not None
    assert edited.updated_at > made.updated_at
    resolved = client.annotation_comments.resolve(made.id)
    assert resolved.resolved
    assert resolved.resolved_by == made.user_id
    assert resolved.resolved_by_name == made.author_name
    assert resolved.resolved_at
    reopened = client.annotation_comments.resolve(made.id, resolved=False)
    assert (reopened.resolved, reopened.resolved_by, reopened.resolved_at) == (False, None, None)


def test_only_the_author_edits_and_an_admin_deletes_anyones(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    mine = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="mine"
    )
    colleague = fake.add_member("noah@example.com", full_name="Noah Reed")
    with fake.client(api_key=fake.add_api_key("member", member=colleague)) as noah:
        seen = noah.annotation_comments.list(DATASET, filename)[0]
        assert (seen.is_mine, seen.author_name) == (False, mine.author_name)
        with pytest.raises(ForbiddenError, match="Only the comment's author"):
            noah.annotation_comments.update(mine.id, body="not yours")
        with pytest.raises(ForbiddenError, match="only its author, an admin or an owner"):
            noah.annotation_comments.delete(mine.id)
        assert noah.annotation_comments.resolve(mine.id).resolved_by == colleague.user_id
        theirs = noah.annotation_comments.create(
            DATASET, filename, annotation_id=annotation, body="theirs"
        )
    assert client.annotation_comments.list(DATASET, filename)[0].body == "mine"
    with fake.client(api_key=fake.add_api_key("admin")) as admin:
        admin.annotation_comments.delete(theirs.id)  # the founder's admin key, not the author


def test_a_deleted_comment_keeps_its_place_emptied(client: pictograph.Client) -> None:
    filename, annotation = _target(client)
    root = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="first"
    )
    client.annotation_comments.react(root.id, "like")
    reply = client.annotation_comments.reply(
        DATASET, filename, annotation_id=annotation, parent_comment_id=root.id, body="second"
    )
    # Pins that the SDK answers nothing, as its type says.
    assert client.annotation_comments.delete(root.id) is None  # type: ignore[func-returns-value]
    gone, kept = client.annotation_comments.list(DATASET, filename)
    assert (gone.id, gone.is_deleted, gone.body, gone.reactions) == (root.id, True, "", [])
    assert (kept.id, kept.parent_comment_id) == (reply.id, root.id)
    for call in (
        lambda: client.annotation_comments.delete(root.id),
        lambda: client.annotation_comments.update(root.id, body="back"),
        lambda: client.annotation_comments.react(root.id, "like"),
        lambda: client.annotation_comments.reply(
            DATASET, filename, annotation_id=annotation, parent_comment_id=root.id, body="x"
        ),
        # Through one of its replies too: a reply to a reply joins the root's thread.
        lambda: client.annotation_comments.reply(
            DATASET, filename, annotation_id=annotation, parent_comment_id=reply.id, body="y"
        ),
    ):
        with pytest.raises(NotFoundError, match="was deleted"):
            call()
    assert len(client.annotation_comments.list(DATASET, filename)) == 2


def test_reactions_are_a_set_per_person_in_the_sdks_order(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    assert tuple(client.annotation_comments.REACTIONS) == REACTIONS
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    client.annotation_comments.react(made.id, "love")
    twice = client.annotation_comments.react(made.id, "love")
    assert [(r.reaction, r.count, r.reacted) for r in twice.reactions] == [("love", 1, True)]
    colleague = fake.add_member("noah@example.com")
    with fake.client(api_key=fake.add_api_key(member=colleague)) as noah:
        both = noah.annotation_comments.react(made.id, "love")
        both = noah.annotation_comments.react(made.id, "like")
        assert [(r.reaction, r.count, r.reacted) for r in both.reactions] == [
            ("like", 1, True),
            ("love", 2, True),
        ]
    mine = client.annotation_comments.unreact(made.id, "love")
    assert [(r.reaction, r.count, r.reacted) for r in mine.reactions] == [
        ("like", 1, False),
        ("love", 1, False),
    ]
    assert client.annotation_comments.unreact(made.id, "love").reactions == mine.reactions
    with pytest.raises(ValidationError, match="use one of like, dislike, love, celebrate"):
        client.annotation_comments.react(made.id, "thumbsup")


def test_a_mention_notifies_the_member_it_names(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    noah = fake.add_member("noah@example.com", full_name="Noah Reed")
    filename, annotation = _target(client)
    made = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="@noah is this a yield? cc @nobody"
    )
    client.annotation_comments.update(made.id, body="@noah is this a yield sign? @noah.")
    [note] = [n for n in client.notifications.list() if n.type == MENTION_KIND]
    assert note.user_id == noah.user_id
    assert note.title.endswith("mentioned you in a comment")
    assert note.metadata is not None
    assert note.metadata["comment_id"] == made.id
    with fake.client(api_key=fake.add_api_key(member=noah)) as as_noah:
        as_noah.annotation_comments.create(
            DATASET, filename, annotation_id=annotation, body="@noah note to self"
        )
    assert len([n for n in client.notifications.list() if n.type == MENTION_KIND]) == 1


def test_refusals_say_what_to_fix(fake: FakePictograph, client: pictograph.Client) -> None:
    filename, annotation = _target(client)
    with pytest.raises(NotFoundError, match="Annotation 'nope' not found on image"):
        client.annotation_comments.create(DATASET, filename, annotation_id="nope", body="x")
    with pytest.raises(ValidationError, match="body"):
        client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="  ")
    with pytest.raises(NotFoundError, match=f"Comment '{UNKNOWN_ID}' not found"):
        client.annotation_comments.resolve(UNKNOWN_ID)
    root = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="root"
    )
    other_file, other_annotation = _target(client, 1)
    with pytest.raises(ValidationError, match="is on another image"):
        client.annotation_comments.reply(
            DATASET, other_file, annotation_id=other_annotation, parent_comment_id=root.id, body="x"
        )
    _, second = client.annotations.get(DATASET, filename)  # the seed draws two
    with pytest.raises(ValidationError, match="a reply is on its thread's annotation"):
        client.annotation_comments.reply(
            DATASET, filename, annotation_id=second.id, parent_comment_id=root.id, body="x"
        )
    with pytest.raises(ValidationError, match="Nothing to update"):
        client.annotation_comments.update(root.id)
    assert [c.body for c in client.annotation_comments.list(DATASET, filename)] == ["root"]
    viewer = fake.add_api_key("viewer")
    with fake.client(api_key=viewer) as reader:
        assert [c.id for c in reader.annotation_comments.list(DATASET, filename)] == [root.id]
        with pytest.raises(ForbiddenError, match="cannot comment on annotations"):
            reader.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")


def test_the_raw_wire_never_answers_a_500(fake: FakePictograph) -> None:
    headers = {"X-API-Key": fake.api_key}
    path = "/api/v1/developer/annotation-comments"
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url, headers=headers) as http:
        assert http.get(path).status_code == 422  # no image_id
        assert http.get(path, params={"image_id": UNKNOWN_ID}).status_code == 404
        sent = http.post(path, json={"image_id": UNKNOWN_ID, "annotation_id": "a", "body": 3})
        assert sent.status_code == 422
        assert "body" in sent.json()["error"]["message"]
        assert http.patch(f"{path}/{UNKNOWN_ID}", json={"resolved": "yes"}).status_code == 422
        assert http.put(f"{path}/{UNKNOWN_ID}/reactions/like").status_code == 404
    assert not fake.unserved_calls


def test_another_organizations_comments_are_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    image_id = client.images.list(DATASET, status="complete")[0].id
    other = fake.add_organization()
    with other.client() as outsider:
        for call in (
            lambda: outsider.annotation_comments.resolve(made.id),
            lambda: outsider.annotation_comments.delete(made.id),
            lambda: outsider.annotation_comments.react(made.id, "like"),
        ):
            with pytest.raises(NotFoundError, match="not found"):
                call()
    headers = {"X-API-Key": other.api_key}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url, headers=headers) as http:
        listed = http.get("/api/v1/developer/annotation-comments", params={"image_id": image_id})
    assert listed.status_code == 404


def test_deleting_an_image_or_its_dataset_takes_its_comments(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    other_file, other_annotation = _target(client, 1)
    kept = client.annotation_comments.create(
        DATASET, other_file, annotation_id=other_annotation, body="y"
    )
    client.images.delete(DATASET, filename, permanent=True)
    with pytest.raises(NotFoundError):
        client.annotation_comments.resolve(made.id)
    assert client.annotation_comments.resolve(kept.id).resolved
    with fake.client(api_key=fake.add_api_key("admin")) as admin:
        admin.datasets.delete(DATASET)
    with pytest.raises(NotFoundError):
        client.annotation_comments.resolve(kept.id)
    assert fake.world.comments.comments == {}


async def test_async_comments(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, status="complete"))[0]
    annotation = (await aclient.annotations.get(DATASET, image.filename))[0].id
    comments = aclient.annotation_comments
    root = await comments.create(DATASET, image.filename, annotation_id=annotation, body="a")
    reply = await comments.reply(
        DATASET, image.filename, annotation_id=annotation, parent_comment_id=root.id, body="b"
    )
    assert reply.parent_comment_id == root.id
    assert (await comments.update(root.id, body="a2")).is_edited
    assert (await comments.resolve(root.id)).resolved
    assert [r.count for r in (await comments.react(root.id, "haha")).reactions] == [1]
    assert (await comments.unreact(root.id, "haha")).reactions == []
    await comments.delete(reply.id)
    listed = await comments.list(DATASET, image.filename)
    assert [(c.body, c.is_deleted) for c in listed] == [("a2", False), ("", True)]
    with pytest.raises(ValidationError, match="use one of"):
        await comments.react(root.id, "wow")
    assert not fake.unserved_calls


def test_releases_before_threads_list_without_deleted_comments(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    kept = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="a")
    gone = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="b")
    client.annotation_comments.delete(gone.id)
    image_id = client.images.list(DATASET, status="complete")[0].id
    path = "/api/v1/developer/annotation-comments"
    for agent, expected in (
        ("pictograph-python/1.69.69", [kept.id]),
        ("pictograph-python/1.69.70", [kept.id, gone.id]),
    ):
        headers = {"X-API-Key": fake.api_key, "User-Agent": agent}
        with httpx.Client(
            transport=fake.transport(), base_url=fake.base_url, headers=headers
        ) as http:
            listed = http.get(path, params={"image_id": image_id}).json()["comments"]
        assert [c["id"] for c in listed] == expected


def test_a_snapshot_refuses_a_world_with_comments(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.snapshot()  # no comment yet: the world is captured
    filename, annotation = _target(client)
    client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="Hm.")
    # Left out, a loaded snapshot would answer `list` with no comments: refused instead.
    with pytest.raises(ValueError, match="cannot capture annotation comments"):
        fake.snapshot()


def test_a_mention_names_its_author_and_points_at_the_comment(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_member("noah@example.com", full_name="Noah Reed")
    filename, annotation = _target(client)
    image_id = client.images.list(DATASET, status="complete")[0].id
    dataset_id = client.datasets.get(DATASET).id
    made = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="@noah is this a yield?"
    )
    [note] = [n for n in client.notifications.list() if n.type == MENTION_KIND]
    assert note.title == f"{made.author_name} mentioned you in a comment"
    assert note.message == "@noah is this a yield?"
    assert note.metadata == {
        "comment_id": made.id,
        "image_id": image_id,
        "dataset_id": dataset_id,
        "dataset_name": DATASET,
        "annotation_id": annotation,
    }


def test_a_mention_is_a_username_in_any_case_never_an_email_address(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    noah = fake.add_member("Noah.Reed@Example.com", full_name="Noah Reed")
    filename, annotation = _target(client)
    client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="Mail ops@noah.reed about it."
    )
    assert [n for n in client.notifications.list() if n.type == MENTION_KIND] == []
    client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="Is this a yield, @NOAH.REED."
    )
    [note] = [n for n in client.notifications.list() if n.type == MENTION_KIND]
    assert note.user_id == noah.user_id
    with fake.client(api_key=fake.add_api_key(member=noah)) as as_noah:
        answer = as_noah.annotation_comments.create(
            DATASET, filename, annotation_id=annotation, body="It is."
        )
    assert answer.author_username == "noah.reed"


def test_an_owner_deletes_a_members_comment_and_the_delete_is_its_last_change(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    colleague = fake.add_member("noah@example.com", full_name="Noah Reed")
    with fake.client(api_key=fake.add_api_key("member", member=colleague)) as noah:
        theirs = noah.annotation_comments.create(
            DATASET, filename, annotation_id=annotation, body="theirs"
        )
    fake.clock.advance(60)
    client.annotation_comments.delete(theirs.id)  # the founder's key is the owner's
    [gone] = client.annotation_comments.list(DATASET, filename)
    assert (gone.id, gone.is_deleted) == (theirs.id, True)
    assert gone.updated_at is not None
    assert theirs.updated_at is not None
    assert gone.updated_at > theirs.updated_at


def test_resolving_a_resolved_comment_keeps_its_first_resolver(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    fake.clock.advance(60)
    resolved = client.annotation_comments.resolve(made.id)
    assert resolved.updated_at is not None
    assert made.updated_at is not None
    assert resolved.updated_at > made.updated_at
    colleague = fake.add_member("noah@example.com", full_name="Noah Reed")
    fake.clock.advance(60)
    with fake.client(api_key=fake.add_api_key("member", member=colleague)) as noah:
        again = noah.annotation_comments.resolve(made.id)
    assert (again.resolved_by, again.resolved_at) == (made.user_id, resolved.resolved_at)
    assert (again.created_at, again.updated_at) == (made.created_at, resolved.updated_at)


def test_an_edit_to_the_same_body_is_no_edit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(
        DATASET, filename, annotation_id=annotation, body="tighten this"
    )
    fake.clock.advance(60)
    same = client.annotation_comments.update(made.id, body="tighten this")
    assert (same.is_edited, same.updated_at) == (False, made.updated_at)


def test_a_comment_is_found_by_its_id_in_any_case_or_padded(client: pictograph.Client) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    assert client.annotation_comments.resolve(made.id.upper()).id == made.id
    assert client.annotation_comments.react(f" {made.id} ", "like").id == made.id


async def test_async_resolving_twice_and_ids_in_any_case(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    image = (await aclient.images.list(DATASET, status="complete"))[0]
    annotation = (await aclient.annotations.get(DATASET, image.filename))[0].id
    comments = aclient.annotation_comments
    made = await comments.create(DATASET, image.filename, annotation_id=annotation, body="x")
    fake.clock.advance(60)
    first = await comments.resolve(made.id.upper())
    assert first.id == made.id
    fake.clock.advance(60)
    again = await comments.resolve(made.id)
    assert (again.resolved_at, again.updated_at) == (first.resolved_at, first.updated_at)
    same = await comments.update(made.id, body="x")
    assert (same.is_edited, same.updated_at) == (False, first.updated_at)


def test_a_world_whose_comments_were_only_read_still_snapshots(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, _ = _target(client)
    assert client.annotation_comments.list(DATASET, filename) == []
    assert fake.world.built("comments") is not None  # the read made the service
    fake.snapshot()


def test_reactions_list_in_the_sdks_order_not_alphabetically(client: pictograph.Client) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    client.annotation_comments.react(made.id, "celebrate")
    both = client.annotation_comments.react(made.id, "love")
    assert [r.reaction for r in both.reactions] == ["love", "celebrate"]


def test_a_viewer_reads_comments_but_never_changes_one(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    client.annotation_comments.react(made.id, "like")
    with fake.client(api_key=fake.add_api_key("viewer")) as reader:
        for call, action in (
            (lambda: reader.annotation_comments.resolve(made.id), "edit or resolve comments"),
            (lambda: reader.annotation_comments.delete(made.id), "delete comments"),
            (lambda: reader.annotation_comments.react(made.id, "love"), "react to comments"),
            (lambda: reader.annotation_comments.unreact(made.id, "like"), "react to comments"),
        ):
            with pytest.raises(ForbiddenError, match=f"cannot {action}"):
                call()
        [seen] = reader.annotation_comments.list(DATASET, filename)
    assert (seen.resolved, seen.is_deleted) == (False, False)
    assert [(r.reaction, r.count) for r in seen.reactions] == [("like", 1)]


def test_a_null_parent_is_a_comment_of_its_own(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _, annotation = _target(client)
    image_id = client.images.list(DATASET, status="complete")[0].id
    body = {"image_id": image_id, "annotation_id": annotation, "body": "x"}
    with raw(fake) as http:
        sent = http.post(
            "/api/v1/developer/annotation-comments", json={**body, "parent_comment_id": None}
        )
    assert sent.status_code == 200
    assert sent.json()["comment"]["parent_comment_id"] is None


def test_a_delete_answers_success_and_the_comments_id(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename, annotation = _target(client)
    made = client.annotation_comments.create(DATASET, filename, annotation_id=annotation, body="x")
    with raw(fake) as http:
        deleted = http.delete(f"/api/v1/developer/annotation-comments/{made.id}")
    assert (deleted.status_code, deleted.json()) == (200, {"success": True, "id": made.id})


async def test_async_reactions_order_mentions_and_a_viewers_refusals(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    noah = fake.add_member("noah@example.com", full_name="Noah Reed")
    image = (await aclient.images.list(DATASET, status="complete"))[0]
    annotation = (await aclient.annotations.get(DATASET, image.filename))[0].id
    comments = aclient.annotation_comments
    made = await comments.create(
        DATASET, image.filename, annotation_id=annotation, body="@noah, is this a yield?"
    )
    await comments.react(made.id, "celebrate")
    both = await comments.react(made.id, "love")
    assert [r.reaction for r in both.reactions] == ["love", "celebrate"]
    [note] = [n for n in await aclient.notifications.list() if n.type == MENTION_KIND]
    assert (note.user_id, note.title) == (
        noah.user_id,
        f"{made.author_name} mentioned you in a comment",
    )
    async with fake.async_client(api_key=fake.add_api_key("viewer"), max_retries=0) as reader:
        with pytest.raises(ForbiddenError, match="cannot edit or resolve comments"):
            await reader.annotation_comments.resolve(made.id)
        with pytest.raises(ForbiddenError, match="cannot delete comments"):
            await reader.annotation_comments.delete(made.id)
        with pytest.raises(ForbiddenError, match="cannot react to comments"):
            await reader.annotation_comments.unreact(made.id, "love")
    [seen] = await comments.list(DATASET, image.filename)
    assert (seen.resolved, seen.is_deleted, len(seen.reactions)) == (False, False, 2)
