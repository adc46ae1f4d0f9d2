"""The question banks of the seeded site: the 11 questions of the recorded exam quiz and the 3 of the midterm.

Texts, answers and feedback are those seen in the recorded review HTML; where the recordings do not show a
part (e.g. the feedback of a wrong choice) it is invented in the same style.
"""

from __future__ import annotations

from archived.simulator.questions.base import QuestionDef
from archived.simulator.questions.calculatedsimple import CalculatedSimpleQuestion
from archived.simulator.questions.ddwtos import DdwtosQuestion, DragChoice
from archived.simulator.questions.essay import EssayQuestion
from archived.simulator.questions.match import MatchQuestion
from archived.simulator.questions.multianswer import ClozeGap, MultianswerQuestion
from archived.simulator.questions.multichoice import Choice, MultichoiceQuestion
from archived.simulator.questions.numerical import NumericalAnswer, NumericalQuestion
from archived.simulator.questions.shortanswer import AcceptedAnswer, ShortAnswerQuestion
from archived.simulator.questions.truefalse import TrueFalseQuestion

TRIANGLE_IMAGE = "triangle diagram.png"

ESSAY_PARAGRAPHS = [
    "Beweis durch vollständige Induktion über \\( n \\).",
    "Induktionsanfang: Für \\( n = 1 \\) gilt \\( \\sum_{i=1}^1 i = 1 = \\frac{1 \\cdot 2}{2} \\).",
    "Induktionsschritt: Aus \\( S(n) = \\frac{n(n+1)}{2} \\) folgt "
    "\\[ S(n+1) = S(n) + (n+1) = \\frac{(n+1)(n+2)}{2}. \\]",
    "Initialisation : pour \\( n = 1 \\), les deux côtés valent 1.",
    "Hérédité : on suppose la formule vraie au rang \\( n \\) et on ajoute \\( n+1 \\) des deux côtés.",
    "Base case: \\( n = 1 \\) gives \\( 1 = \\frac{1 \\cdot 2}{2} \\).",
    "Inductive step: assume \\( \\sum_{i=1}^n i = \\frac{n(n+1)}{2} \\); adding \\( n+1 \\) to both sides "
    "gives the claim for \\( n+1 \\).",
    "Gauß' Trick: Man schreibt die Summe zweimal, einmal rückwärts, und erhält \\( 2S = n(n+1) \\).",
    "Zatem teza zachodzi dla każdego \\( n \\ge 1 \\). ∎",
    "Alternativ: \\[ \\sum_{i=1}^{n} i = \\sum_{i=1}^{n} (n+1-i) \\] und Addition beider Summen.",
    "Pairing the terms \\( i \\) and \\( n+1-i \\) gives \\( n/2 \\) pairs, each with the sum \\( n+1 \\).",
    "Därmed gäller påståendet för alla \\( n \\ge 1 \\).",
    "Conclusion : la propriété est vraie pour tout entier \\( n \\ge 1 \\).",
    "Small cases as a check: \\( n = 2 \\) gives 3 and \\( n = 3 \\) gives 6, as the formula predicts.",
    "Ōtsuka-sensei's hint: write the sum forwards and backwards, then add.",
    "Die Aussage folgt also für alle natürlichen Zahlen.",
]

ESSAY_COMMENTS = [
    "Very clean induction. Minor: state the induction hypothesis explicitly.",
    "Good idea, but the induction step is incomplete.",
    "Correct and well structured.",
    "Please justify the last equality.",
    "Base case missing; the step is fine.",
    "Sehr sauber aufgeschrieben.",
]

RECORDED_ESSAY_JMUELLER = (
    "<p>Beweis durch vollständige Induktion.</p><p>Induktionsanfang: Für \\( n = 1 \\) gilt "
    "\\( \\sum_{i=1}^1 i = 1 = \\frac{1 \\cdot 2}{2} \\).</p><p>Induktionsschritt: Angenommen die Aussage gilt für "
    "\\( n \\). Dann ist \\[ \\sum_{i=1}^{n+1} i = \\frac{n(n+1)}{2} + (n+1) = \\frac{(n+1)(n+2)}{2}. \\] ∎</p>"
)
RECORDED_ESSAY_EDUBOIS = (
    "<p>Initialisation: n = 1 OK. Hérédité: <strong>S(n+1) = S(n) + n + 1</strong> = (n+1)(n+2)/2.</p>"
)


def exam_questions(first_id: int, contextid: int) -> list[QuestionDef]:
    """The 11 questions of "Final exam Mathematics I", with ids `first_id`, `first_id + 1`, ..."""
    ids = iter(range(first_id, first_id + 11))
    return [
        MultichoiceQuestion(
            id=next(ids),
            name="Fraction",
            contextid=contextid,
            text="<p>Let \\( a = 6 \\) and \\( b = 3 \\). What is the value of \\( \\frac{a}{b} \\)?</p>",
            generalfeedback="<p>\\( \\frac{6}{3} = 2 \\).</p>",
            choices=[
                Choice("2", 1.0, "Correct."),
                Choice("0.5", 0.0, "No: that is \\( b / a \\)."),
                Choice("18", 0.0, "No: that is \\( a \\cdot b \\)."),
                Choice("3", 0.0, "No: that is \\( a - b \\)."),
            ],
        ),
        MultichoiceQuestion(
            id=next(ids),
            name="Primes",
            contextid=contextid,
            defaultmark=2.0,
            single=False,
            text="<p>Which of the following numbers \\( p \\) are prime?</p>",
            generalfeedback="<p>2 and 7 are prime; 4 = 2·2 and 9 = 3·3 are not.</p>",
            choices=[
                Choice("2", 0.5, "One is odd."),
                Choice("4", 0.0, "Two is even."),
                Choice("9", 0.0, "Four is even."),
                Choice("7", 0.5, "Three is odd."),
            ],
        ),
        TrueFalseQuestion(
            id=next(ids),
            name="Gauss sum",
            contextid=contextid,
            text="<p>True or false: for every \\( n \\ge 1 \\)</p><p>\\[ \\sum_{i=1}^n i = \\frac{n(n+1)}{2} \\]</p>",
            generalfeedback="<p>This is the classic formula of Gauß.</p>",
            correct=True,
        ),
        ShortAnswerQuestion(
            id=next(ids),
            name="Amphibian",
            contextid=contextid,
            text="<p>Name an amphibian that lives in European ponds (one word): __________</p>",
            generalfeedback="Generalfeedback: frog or toad would have been OK.",
            answers=[
                AcceptedAnswer("frog", 1.0, "Frog is a very good answer."),
                AcceptedAnswer("toad", 0.8, "Toad is an OK good answer."),
                AcceptedAnswer("*", 0.0, "That is a bad answer."),
            ],
            right_variants=["frog", "Frog"],
            wrong_pool=["fish", "duck", "carp", "heron", "beaver", "snail", "dragonfly", "Libelle", "grenouille?"],
        ),
        NumericalQuestion(
            id=next(ids),
            name="Pi",
            contextid=contextid,
            text="<p>Give \\( \\pi \\) rounded to two decimal places.</p>",
            generalfeedback="Generalfeedback: 3.14 is the right answer.",
            answers=[
                NumericalAnswer(3.14, 0.0, 1.0, "Very good.", "3.14"),
                NumericalAnswer(3.142, 0.0, 0.0, "Too many decimals.", "3.142"),
            ],
            right_variants=["3.14"],
        ),
        MultichoiceQuestion(
            id=next(ids),
            name="Hypotenuse",
            contextid=contextid,
            defaultmark=2.0,
            text=(
                "<p>The figure shows a right triangle with legs \\( a = 3 \\) and \\( b = 4 \\).</p>"
                '<p><img src="@@PLUGINFILE@@/triangle%20diagram.png" alt="Right triangle with legs a=3 and b=4" '
                'width="320" height="200" class="img-fluid atto_image_button_text-bottom"></p>'
                "<p>How long is the hypotenuse \\( c = \\sqrt{a^2 + b^2} \\)?</p>"
            ),
            generalfeedback="<p>\\( c = \\sqrt{9 + 16} = 5 \\).</p>",
            files={TRIANGLE_IMAGE: "triangle_diagram.png"},
            choices=[
                Choice("5", 1.0, "Correct."),
                Choice("6", 0.0, "No."),
                Choice("<p>\\( \\sqrt{7} \\)</p>", 0.0, "No: \\( 4 - 3 \\ne 7 \\)."),
                Choice("7", 0.0, "No: \\( 3 + 4 \\) is not the hypotenuse."),
            ],
        ),
        MatchQuestion(
            id=next(ids),
            name="Animals",
            contextid=contextid,
            defaultmark=2.0,
            text="Classify the animals.",
            generalfeedback="General feedback.",
            pairs=[("cat", "mammal"), ("frog", "amphibian"), ("newt", "amphibian")],
            distractors=["insect"],
        ),
        CalculatedSimpleQuestion(
            id=next(ids),
            name="Sum",
            contextid=contextid,
            text="<p>Compute \\( {a} + {b} \\).</p>",
            generalfeedback="<p>The answer is  {a} + {b}</p>",
            wildcards={"a": (1.0, 10.0, 1), "b": (1.0, 10.0, 1)},
            formula=lambda values: values["a"] + values["b"],
        ),
        DdwtosQuestion(
            id=next(ids),
            name="Fox",
            contextid=contextid,
            text="The [[1]] brown [[2]] jumped over the [[3]] dog.",
            generalfeedback="This sentence uses each letter of the alphabet.",
            choices=[
                DragChoice("quick", 1),
                DragChoice("fox", 2),
                DragChoice("lazy", 3),
                DragChoice("slow", 1),
                DragChoice("dog", 2),
                DragChoice("assiduous", 3),
            ],
        ),
        MultianswerQuestion(
            id=next(ids),
            name="Owl",
            contextid=contextid,
            defaultmark=2.0,
            text='Complete this opening line of verse: "The {#1} and the {#2} went to sea".',
            generalfeedback=(
                'General feedback: It\'s from "The Owl and the Pussy-cat" by Lear: '
                '"The owl and the pussycat went to sea'
            ),
            gaps=[
                ClozeGap("shortanswer", ["Owl"], wrong_pool=["Cat", "Goose", "Frog", "Eagle"]),
                ClozeGap("multichoice", ["Bow-wow", "Wiggly worm", "Pussy-cat"], right=2),
            ],
        ),
        EssayQuestion(
            id=next(ids),
            name="Induction proof",
            contextid=contextid,
            defaultmark=10.0,
            text=(
                "<p>Prove by induction that for all \\( n \\ge 1 \\):</p>"
                "<p>\\[ \\sum_{i=1}^n i = \\frac{n(n+1)}{2} \\]</p>"
                "<p>You may attach a scan of your handwritten notes.</p>"
            ),
            generalfeedback="<p>Base case \\( n = 1 \\), then the step \\( n \\to n+1 \\).</p>",
            response_pool=ESSAY_PARAGRAPHS,
        ),
    ]


EXAM_MAXMARKS = [1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 10.0]


def midterm_questions(first_id: int, contextid: int) -> list[QuestionDef]:
    """The 3 questions of the "Midterm quiz" in Linear Algebra I."""
    return [
        MultichoiceQuestion(
            id=first_id,
            name="Determinant",
            contextid=contextid,
            answernumbering="abc",
            text=(
                "<p>Let \\( A = \\begin{pmatrix} 1 &amp; 2 \\\\ 3 &amp; 4 \\end{pmatrix} \\). "
                "What is \\( \\det A \\)?</p>"
            ),
            generalfeedback="<p>\\( \\det A = 1 \\cdot 4 - 2 \\cdot 3 = -2 \\).</p>",
            choices=[Choice("-2", 1.0), Choice("2", 0.0), Choice("10", 0.0), Choice("-10", 0.0)],
        ),
        TrueFalseQuestion(
            id=first_id + 1,
            name="Invertible",
            contextid=contextid,
            text="<p>Every invertible matrix \\( A \\in \\mathbb{R}^{n \\times n} \\) has a non-zero determinant.</p>",
            correct=True,
        ),
        NumericalQuestion(
            id=first_id + 2,
            name="Rank",
            contextid=contextid,
            text="<p>What is the rank of \\( \\begin{pmatrix} 1 &amp; 2 \\\\ 2 &amp; 4 \\end{pmatrix} \\)?</p>",
            answers=[NumericalAnswer(1.0, 0.0, 1.0, "Right: the rows are dependent.", "1")],
            right_variants=["1"],
        ),
    ]
