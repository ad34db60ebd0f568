from control.domain.quotas import Quotas, room_allowed, room_size_allowed, user_allowed

Q = Quotas(max_rooms=2, max_users=3, max_participants=10)


def test_rooms_and_users_up_to_the_quota():
    assert [room_allowed(Q, n) for n in range(4)] == [True, True, False, False]
    assert [user_allowed(Q, n) for n in range(5)] == [True, True, True, False, False]


def test_room_size_between_one_and_the_participant_quota():
    assert [room_size_allowed(Q, n) for n in (0, 1, 10, 11)] == [False, True, True, False]
