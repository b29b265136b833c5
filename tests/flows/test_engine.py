"""The conversation engine on the real PôleS flow: commands, re-asks, edits and data care."""

from __future__ import annotations

import pytest

from flows import engine
from flows.flow import Flow
from flows.flow_loader import load_flows
from flows.messages import Input
from flows.render import RenderedQuestion, render, render_turn
from tests.auxil.flow_person import CONTEXT, Person


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flows()["prescreening"]


# Les Courtillières - Pont-de-Pierre, a priority district of Pantin (QPV 2024).
PANTIN_QPV = "QN09310M"


def to_summary(person: Person) -> None:
    """A 19-year-old from Pantin, out of work, up to the summary."""
    person.answer(
        "yes", "self", "=19", "=93500", "none", "below_3", (), PANTIN_QPV, (), ("digital",)
    )
    person.answer("yes", "=Samir", "call", "=06 12 34 56 78")


def test_a_whole_conversation_ends_with_a_confirmed_summary(flow: Flow) -> None:
    person = Person(flow)
    to_summary(person)
    assert person.asking == "confirm"
    summary = "\n".join(person.texts())
    assert "• ton âge : 19" in summary
    assert "• ton numéro : 06 12 34 56 78" in summary
    assert "J'habite un quartier prioritaire" in summary
    person.answer("confirm")
    assert person.state.done
    assert person.state.outcome == "lead"
    assert "confirmed" in person.turn.events
    assert "Merci Samir" in person.texts()[0]


def test_back_returns_to_the_previous_question_and_keeps_going(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=19")
    assert person.asking == "postal_code"
    person.send(command="back")
    assert person.asking == "age"
    person.send(command="back")
    assert person.asking == "asker"
    person.answer("self", "=20")
    assert person.state.answers["age"] == 20
    assert person.asking == "postal_code"


def test_back_at_the_first_question_says_so(flow: Flow) -> None:
    person = Person(flow)
    person.send(command="back")
    assert person.asking == "consent"
    assert "déjà au début" in person.texts()[0]


def test_edit_from_the_summary_changes_one_answer_and_returns(flow: Flow) -> None:
    person = Person(flow)
    to_summary(person)
    person.answer("edit")
    assert person.asking == "edit_field"
    assert "phone" in [o.value for o in person.turn.question.options]  # type: ignore[union-attr]
    person.answer("phone")
    assert person.asking == "phone"
    person.answer("=07 00 00 00 01")
    assert person.asking == "confirm"
    assert any("07 00 00 00 01" in t for t in person.texts())
    assert person.state.answers["phone"] == "+33700000001"


def test_an_edit_that_makes_a_new_question_relevant_asks_it(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=17", "=93500", "none", "below_3", PANTIN_QPV, (), ("digital",))
    person.answer("yes", "=Samir", "call", "=0612345678", "edit", "age", "=30")
    # At 30 allowances matter (they were skipped at 17); the rest is kept.
    assert person.asking == "criteria"
    assert [o.value for o in person.turn.question.options] == ["rsa", "ass", "aah"]  # type: ignore[union-attr]
    person.answer(("rsa",))
    assert person.asking == "confirm"
    assert person.state.answers["criteria"] == ["qpv", "rsa"]


def test_restart_forgets_the_answers_but_keeps_the_language(flow: Flow) -> None:
    person = Person(flow, language="en")
    person.answer("yes", "self", "=19")
    person.send(command="restart")
    assert person.asking == "consent"
    assert person.state.answers == {}
    assert person.state.language == "en"


def test_three_bad_answers_offer_a_counsellor_then_retry_works(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self")
    person.send(text="vingt")
    assert "par exemple 19" in person.texts()[0]
    person.send(text="beaucoup")
    assert person.asking == "age"
    person.send(text="???")
    assert "stuck" in person.turn.events
    assert [o.value for o in person.turn.question.options] == ["retry", "human"]  # type: ignore[union-attr]
    person.answer("retry")
    assert person.asking == "age"
    person.answer("=22")
    assert person.asking == "postal_code"


def test_three_bad_answers_then_a_counsellor(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=abc", "=abc", "=abc", "human")
    assert person.state.human_requested
    assert person.asking == "first_name"


def test_asking_for_a_human_at_any_step_collects_contact_with_consent(flow: Flow) -> None:
    person = Person(flow)
    person.send(command="human")
    # No consent yet: it is asked before any contact detail.
    assert person.asking == "consent"
    person.answer("yes", "=Awa", "sms", "=0611223344")
    assert person.asking == "confirm"
    person.answer("confirm")
    assert person.state.done
    assert person.state.human_requested


def test_a_human_request_after_contact_details_goes_straight_to_the_summary(flow: Flow) -> None:
    person = Person(flow)
    to_summary(person)
    person.answer("confirm")
    person.send(command="human")
    assert person.asking == "confirm"


def test_switching_language_repeats_the_question_in_english(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self")
    person.send(command="language", payload="en")
    texts = person.texts()
    assert texts[0] == "Got it, I'll continue in English."
    assert person.asking == "age"
    assert "How old" in texts[-1]


def test_under_15_keeps_nothing_and_offers_the_parent_path(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=13")
    assert person.state.answers == {}
    assert "answers_forgotten" in person.turn.events
    assert "parent" in " ".join(person.texts())
    person.answer("parent_here")
    assert person.asking == "consent"
    person.answer("yes", "parent", "=13", "=92390")
    assert any("ateliers" in t.lower() for t in person.texts())


def test_out_of_area_is_said_honestly_with_the_next_step(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=22", "=69003")
    assert "pas encore de site près de chez toi" in person.texts()[0]
    person.answer("job_seeker", "under_12_months", "4", (), (), ("digital",))
    joined = " ".join(person.texts())
    assert "Mission locale" in joined
    # No lead unless the person asks: the next question is whether they want a counsellor.
    assert person.asking == "other_routes"


def test_a_maybe_is_worded_as_a_chance(flow: Flow) -> None:
    person = Person(flow)
    person.answer(
        "yes",
        "self",
        "=27",
        "=78300",
        "job_seeker",
        "under_12_months",
        "4",
        (),
        "no",
        (),
        ("digital",),
    )
    joined = " ".join(person.texts())
    assert "c'est possible" in joined
    assert "peut te confirmer que tu y as droit" in joined


def test_an_opening_site_is_said_to_be_opening_soon(flow: Flow) -> None:
    person = Person(flow)
    person.answer(
        "yes",
        "self",
        "=23",
        "=94400",
        "job_seeker",
        "12_23_months",
        "4",
        (),
        "QN09410M",  # Colonel Fabien, Vitry-sur-Seine
        (),
        ("digital",),
    )
    assert any("ouvre bientôt" in t for t in person.texts())


def test_several_sites_let_the_person_choose(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=20", "=93140", "none", "3", (), "no", (), ("digital",))
    assert person.asking == "site"
    assert [o.value for o in person.turn.question.options] == ["pantin", "pierrefitte-sur-seine"]  # type: ignore[union-attr]


def test_choices_can_be_typed_by_number_or_label(flow: Flow) -> None:
    person = Person(flow)
    person.send(text="oui, c'est ok")
    assert person.asking == "asker"
    person.send(text="1")
    assert person.asking == "age"


def test_a_choice_from_an_old_keyboard_changes_nothing(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self")
    person.send(choice="parent")  # a button of the previous question
    assert person.asking == "age"
    assert person.state.answers["asker"] == "self"


def test_after_the_end_the_person_can_restart(flow: Flow) -> None:
    person = Person(flow)
    person.answer("no")
    assert person.state.done
    person.send(text="hello")
    assert [o.value for o in person.turn.question.options] == ["restart"]  # type: ignore[union-attr]
    person.answer("restart")
    assert person.asking == "consent"


def test_the_engine_never_changes_the_state_it_is_given(flow: Flow) -> None:
    person = Person(flow)
    before = person.state.model_dump()
    engine.handle(flow, person.state, Input(choice="yes"), context=CONTEXT)
    assert person.state.model_dump() == before


def test_every_output_renders_in_both_languages(flow: Flow) -> None:
    person = Person(flow)
    to_summary(person)
    for message in person.turn.messages:
        assert render(message, "en")
        assert render(message, "fr")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("+33612345678", "06 12 34 56 78"), ("+3225551234", "+3225551234")],
)
def test_phone_numbers_are_shown_as_people_write_them(stored: str, shown: str) -> None:
    from flows.presentation import readable_phone

    assert readable_phone(stored) == shown


def rendered_question(person: Person) -> RenderedQuestion:
    """The question as a channel shows it (its choices and its "none of these")."""
    question = render_turn([], person.turn.question, person.state.language)[-1].question
    assert question is not None
    return question


def to_interests(person: Person) -> None:
    person.answer("yes", "self", "=19", "=93500", "none", "below_3", (), PANTIN_QPV, ())
    assert person.asking == "interests"


def test_the_interests_question_offers_nothing_in_particular_not_none(flow: Flow) -> None:
    person = Person(flow)
    to_interests(person)
    question = rendered_question(person)
    assert question.none == "Rien de particulier"
    assert not any("none" in text or "Aucune" in text for text in person.texts())


@pytest.mark.parametrize("typed", ["rien de particulier", "Rien de particulier.", "0"])
def test_nothing_in_particular_can_be_typed_at_the_interests_question(
    flow: Flow, typed: str
) -> None:
    person = Person(flow)
    to_interests(person)
    person.send(text=typed)
    assert person.state.answers["interests"] == []
    assert person.asking != "interests"


def test_a_wrong_answer_to_the_interests_question_is_reasked_with_its_own_none(
    flow: Flow,
) -> None:
    person = Person(flow)
    to_interests(person)
    person.send(text="la cuisine")
    assert person.asking == "interests"
    assert "« Rien de particulier »" in person.texts()[0]
    assert "Aucune" not in person.texts()[0]


def test_the_allowances_question_offers_none(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=93500", "none", "4")
    assert person.asking == "criteria"
    assert rendered_question(person).none == "Aucune"


def test_a_job_seeker_is_not_told_they_are_registered_then_asked_if_they_are(
    flow: Flow,
) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=93500")
    situations = {c.value: c.label for c in rendered_question(person).choices}
    person.answer("job_seeker")
    assert person.asking == "france_travail"
    offered = [c.label for c in rendered_question(person).choices]
    # The question may offer "not registered": the answer before it did not claim they were.
    assert "Je ne suis pas inscrit·e" in offered
    assert "inscrit" not in situations["job_seeker"]
    assert "Tu es inscrit·e à France Travail ?" in person.texts()[0]


def test_someone_with_no_adviser_is_told_where_to_confirm_eligibility(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=78300", "none", "4", (), "no", (), ("digital",))
    joined = " ".join(person.texts())
    assert "c'est possible" in joined
    assert "Ton conseiller" not in joined
    assert "Une Mission locale ou France Travail peut te confirmer que tu y as droit" in joined


def test_allowances_are_not_summed_up_as_a_personal_situation(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=93500", "none", "4", ("rsa",), "no", (), ("digital",))
    person.answer("yes", "=Samir", "call", "=06 12 34 56 78")
    assert person.asking == "confirm"
    summary = "\n".join(person.texts())
    assert "• tes aides et ta situation : Le RSA" in summary
    assert "situation personnelle" not in summary


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("bac", "4"),
        ("Bac", "4"),
        ("bac pro", "4"),
        ("j'ai le bac", "4"),
        ("Baccalauréat", "4"),
        ("BTS", "5"),
        ("bac+2", "5"),
        ("Bac + 2", "5"),
        ("CAP", "3"),
        ("un BEP", "3"),
        ("brevet", "below_3"),
        ("aucun", "below_3"),
        ("pas de diplôme", "below_3"),
        ("licence", "6_plus"),
        ("Master 2", "6_plus"),
        ("bac+5", "6_plus"),
    ],
)
def test_a_diploma_typed_in_the_usual_words_is_understood(
    flow: Flow, typed: str, level: str
) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=93500", "none")
    assert person.asking == "diploma_level"
    person.send(text=typed)
    assert person.state.answers["diploma_level"] == level
    assert person.asking == "criteria"


def test_a_diploma_answer_with_a_negation_is_asked_again(flow: Flow) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=30", "=93500", "none")
    person.send(text="je n'ai pas le bac")
    assert person.asking == "diploma_level"
    assert "diploma_level" not in person.state.answers


def test_the_summary_says_nothing_in_particular_as_the_interests_question_did(
    flow: Flow,
) -> None:
    person = Person(flow)
    person.answer("yes", "self", "=19", "=93500", "none", "below_3", (), PANTIN_QPV, (), ())
    person.answer("yes", "=Samir", "call", "=06 12 34 56 78")
    assert person.asking == "confirm"
    summary = "\n".join(person.texts())
    assert "• ce qui t'intéresse : Rien de particulier" in summary
