"""The tables of moves of a release and of a further copy: every move allowed, every other refused."""

import itertools

import pytest

from fulfilment.delivery import FURTHER_COPY_LIFECYCLE
from fulfilment.models import FurtherCopyStatus, ReleaseStatus
from fulfilment.release_lifecycle import RELEASE_LIFECYCLE

RELEASE_MOVES = {
    ("in_review", "awaiting_second_approval"),
    ("in_review", "preparing"),
    ("awaiting_second_approval", "preparing"),
    ("awaiting_second_approval", "in_review"),
    ("preparing", "available"),
    ("available", "expired"),
}

FURTHER_COPY_MOVES = {
    ("asked", "fee_requested"),
    ("asked", "issued"),
    ("asked", "declined"),
    ("fee_requested", "issued"),
    ("fee_requested", "declined"),
}


@pytest.mark.parametrize("move", list(itertools.permutations(ReleaseStatus.values, 2)))
def test_a_release_moves_only_as_its_table_says(move):
    assert RELEASE_LIFECYCLE.can_move(*move) == (move in RELEASE_MOVES)


@pytest.mark.parametrize("move", list(itertools.permutations(FurtherCopyStatus.values, 2)))
def test_a_further_copy_moves_only_as_its_table_says(move):
    assert FURTHER_COPY_LIFECYCLE.can_move(*move) == (move in FURTHER_COPY_MOVES)
