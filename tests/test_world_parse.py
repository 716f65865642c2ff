"""Prompt → scene spec: a table of prompts and the spec fields they must set, plus honesty, continuation and fuzz."""

from __future__ import annotations

import json
import math
import random
import re

import pytest

from sora_lite.engines.world.parse import ParseResult, normalize, parse_prompt
from sora_lite.engines.world.spec import SceneSpec


def field_of(spec: SceneSpec, path: str):
    """'objects[1].color' / 'camera.move' / 'objects.len' → the value in the spec."""
    value = spec
    for part in path.split("."):
        m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if m:
            value = getattr(value, m.group(1))[int(m.group(2))]
        elif part == "len":
            value = len(value)
        else:
            value = getattr(value, part)
    return value


CASES: list[tuple[str, dict[str, object]]] = [
    # shapes and synonyms
    ("a sphere", {"objects.len": 1, "objects[0].shape": "ball"}),
    ("an orb", {"objects[0].shape": "ball"}),
    ("a wooden crate", {"objects[0].shape": "cube", "objects[0].material": "wood"}),
    ("a box and a barrel", {"objects[0].shape": "cube", "objects[1].shape": "cylinder"}),
    ("a pill", {"objects[0].shape": "capsule"}),
    ("a robot and a woman", {"objects[0].shape": "character", "objects[1].shape": "prop", "objects[1].recipe": "person"}),
    ("a marble rolls", {"objects[0].shape": "ball", "objects[0].material": "glass"}),
    ("a marble cube", {"objects[0].shape": "cube", "objects[0].material": "stone"}),
    # counts
    ("three balls", {"objects[0].count": 3}),
    ("3 cubes", {"objects[0].count": 3, "objects[0].shape": "cube"}),
    ("a pair of cylinders", {"objects[0].count": 2, "objects[0].shape": "cylinder"}),
    ("a couple of capsules", {"objects[0].count": 2}),
    ("a dozen marbles", {"objects[0].count": 12}),
    ("several blocks", {"objects[0].count": 3}),
    ("1000 balls", {"objects[0].count": 20}),
    ("twenty five balls and twenty five cubes", {"objects.len": 2}),
    # colours bind to their own nouns
    ("a red ball and a blue cube", {"objects[0].color": "red", "objects[0].shape": "ball", "objects[1].color": "blue",
                                    "objects[1].shape": "cube", "objects[0].name": "red ball", "objects[1].name": "blue cube"}),
    ("a crimson sphere next to a navy box", {"objects[0].color": "red", "objects[1].color": "blue"}),
    ("two grey cylinders and a golden orb", {"objects[0].color": "gray", "objects[0].count": 2, "objects[1].color": "gold"}),
    ("a ball that is green", {"objects[0].color": "green"}),
    # materials
    ("a bouncy ball", {"objects[0].material": "rubber"}),
    ("a steel ball and an iron cube", {"objects[0].material": "metal", "objects[1].material": "metal"}),
    ("a glass sphere and a stone block", {"objects[0].material": "glass", "objects[1].material": "stone"}),
    ("a plastic cube made of ice", {"objects[0].material": "ice"}),
    # sizes
    ("a tiny ball and a giant cube", {"objects[0].size": 0.04, "objects[1].size": 0.6}),
    ("a 10 cm ball", {"objects[0].size": 0.05}),
    # environment
    ("a ball on a table", {"environment.table": True}),
    ("a ball in a room", {"environment.backdrop": "room"}),
    ("a ball outdoors in a park", {"environment.backdrop": "sky", "environment.floor": "grass"}),
    ("a ball on the beach", {"environment.floor": "sand"}),
    ("a cube on a wooden floor", {"environment.floor": "wood", "objects[0].material": "wood"}),
    ("a ball on tiles between walls", {"environment.floor": "tiles", "environment.walls": True}),
    ("a ball rolls down a ramp at 30 degrees", {"environment.ramp_angle": 30.0}),
    ("a ball on a steep slope", {"environment.ramp_angle": 40.0}),
    ("a ball on the moon", {"environment.gravity": 1.62}),
    # lighting
    ("a ball at sunrise", {"lighting.time_of_day": "dawn"}),
    ("a ball at golden hour", {"lighting.time_of_day": "sunset", "lighting.mood": "warm"}),
    ("a ball at night in moonlight", {"lighting.time_of_day": "night"}),
    ("a ball, dramatic lighting", {"lighting.mood": "dramatic"}),
    ("a ball, warm light", {"lighting.mood": "warm"}),
    ("a ball lit from the left", {"lighting.key_direction": [1.0, 0.0, -0.6]}),
    # camera
    ("a ball, locked-off camera", {"camera.move": "static"}),
    ("the camera pans left over a ball", {"camera.move": "pan", "camera.direction": -1}),
    ("camera orbiting a cube", {"camera.move": "orbit"}),
    ("a 360 of a cube", {"camera.move": "orbit"}),
    ("slow push in on a ball", {"camera.move": "dolly", "camera.direction": 1}),
    ("the camera pulls back from a ball", {"camera.move": "dolly", "camera.direction": -1}),
    ("zoom out from a cube", {"camera.move": "zoom", "camera.direction": -1}),
    ("a tracking shot following a rolling ball", {"camera.move": "follow", "camera.target": "red ball"}),
    ("a close-up of a ball", {"camera.shot": "close"}),
    ("a medium shot of a cube", {"camera.shot": "medium"}),
    ("an establishing shot of a table with a ball", {"camera.shot": "wide"}),
    ("a ball, telephoto", {"camera.lens_mm": 100.0}),
    ("a ball, wide-angle lens", {"camera.lens_mm": 20.0}),
    ("a ball shot on a 50mm lens", {"camera.lens_mm": 50.0}),
    ("a ball seen from above", {"camera.elevation": -60.0}),
    ("bird's-eye view of three balls", {"camera.elevation": -85.0}),
    ("low angle shot of a cube", {"camera.elevation": 10.0}),
    # pacing
    ("a ball bounces in slow motion", {"pacing.speed": 0.25}),
    ("a ball bounces, 4x slow motion", {"pacing.speed": 0.25}),
    ("a ball falls, 10x slow motion", {"pacing.speed": 0.1}),
    ("a ball rolls in real time", {"pacing.speed": 1.0}),
    ("time-lapse of a cube", {"pacing.speed": 4.0}),
    # motion
    ("a ball dropped from 2 metres", {"objects[0].height": 2.0}),
    ("a ball falls from 3 m", {"objects[0].height": 3.0}),
    ("a cube falls", {"objects[0].height": 1.0}),
    ("a ball thrown to the right", {"objects[0].velocity[0]>": 0.0, "objects[0].velocity[2]>": 0.0}),
    ("a cube sliding to the left", {"objects[0].velocity": [-2.0, 0.0, 0.0]}),
    ("a ball rolling at 3 m/s", {"objects[0].velocity": [3.0, 0.0, 0.0]}),
    ("a ball is pushed toward the camera", {"objects[0].velocity[1]<": 0.0}),
    ("a bouncing ball", {"objects[0].height": 1.0}),
    ("a swinging pendulum", {"objects[0].shape": "pendulum", "objects[0].velocity[0]>": 0.0}),
    ("three cubes stacked", {"objects[0].arrangement": "stack", "objects[0].count": 3}),
    ("a tower of 5 blocks", {"objects[0].arrangement": "stack", "objects[0].count": 5}),
    ("a row of dominoes", {"objects[0].shape": "domino", "objects[0].arrangement": "row", "objects[0].count": 8}),
    ("a red ball collides with a blue ball", {"objects[0].velocity[0]>": 0.0, "objects[1].velocity[0]<": 0.0}),
    ("two balls collide", {"objects.len": 2, "objects[0].velocity[0]>": 0.0, "objects[1].velocity[0]<": 0.0}),
    ("a man throws a ball", {"objects[0].shape": "prop", "objects[0].action": "throw", "objects[0].velocity": [0.0, 0.0, 0.0],
                             "objects[1].velocity[0]>": 0.0}),
    # sound
    ("a silent ball drop", {"ambience": False}),
    ("a ball falls, with no sound", {"ambience": False}),
    ("a ball falls", {"ambience": True}),
]


def check(spec: SceneSpec, path: str, expected: object) -> None:
    op = path[-1] if path[-1] in "<>" else None
    key = path[:-1] if op else path
    m = re.fullmatch(r"(.*)\[(\d+)\]", key) if key.endswith("]") else None
    value = field_of(spec, m.group(1))[int(m.group(2))] if m else field_of(spec, key)
    if op == ">":
        assert value > expected, f"{path}: {value!r} is not > {expected!r}"
    elif op == "<":
        assert value < expected, f"{path}: {value!r} is not < {expected!r}"
    elif isinstance(expected, float):
        assert math.isclose(value, expected, abs_tol=1e-6), f"{path}: {value!r} != {expected!r}"
    else:
        assert value == expected, f"{path}: {value!r} != {expected!r}"


@pytest.mark.parametrize("prompt,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_prompt_table(prompt: str, expected: dict[str, object]) -> None:
    result = parse_prompt(prompt)
    result.spec.validate()
    for path, value in expected.items():
        check(result.spec, path, value)
    assert_honest(prompt, result)


def assert_honest(prompt: str, result: ParseResult) -> None:
    text = normalize(prompt)
    for phrase in result.used + result.ignored:
        assert phrase and phrase in text, f"{phrase!r} is not in the prompt {text!r}"
    assert not set(result.used) & set(result.ignored) or all(text.count(p) > 1 for p in set(result.used) & set(result.ignored))


def test_used_words_in_prompt_order() -> None:
    result = parse_prompt("Three crimson spheres dropped from 2 metres onto a wooden floor, slow motion, at sunset")
    assert result.used == ["three", "crimson", "spheres", "dropped", "2 metres", "wooden floor", "slow motion", "sunset"]
    assert result.ignored == []


def test_nonsense_word_is_ignored_not_used() -> None:
    result = parse_prompt("a red ball blorfs across the zlorp")
    assert "blorfs" in result.ignored and "zlorp" in result.ignored
    assert "red" in result.used and "ball" in result.used
    assert any("zlorp" in n for n in result.notes)


def test_unknown_noun_drops_its_attributes_and_verb() -> None:
    result = parse_prompt("a red dragon flies over a blue ball")
    assert [o.shape for o in result.spec.objects] == ["ball"]
    assert result.spec.objects[0].color == "blue"
    assert result.spec.objects[0].velocity == [0.0, 0.0, 0.0]  # "flies" was the dragon's
    assert "dragon" in result.ignored and "red" in result.ignored
    assert any("'dragon' is not something the world engine can show" in n for n in result.notes)


def test_car_only_prompt_gets_a_car_and_an_unknown_thing_the_default_scene_with_note() -> None:
    result = parse_prompt("a car")  # a recipe object (recipes.json), shown by a proxy and said so
    assert [(o.shape, o.recipe) for o in result.spec.objects] == [("prop", "car")]
    assert not result.fallback and any(a.startswith("car:") for a in result.approximated)
    result = parse_prompt("a dragon")
    assert len(result.spec.objects) == 1 and result.spec.objects[0].shape == "ball" and result.fallback
    assert "dragon" in result.ignored and "dragon" in result.unshown
    assert any("default" in n for n in result.notes)


def test_clamped_count_is_noted() -> None:
    result = parse_prompt("1000 balls")
    assert result.spec.objects[0].count == 20
    assert any("1000" in n for n in result.notes)


def test_totals_stay_within_scene_limits() -> None:
    text = " and ".join(f"twenty {c} balls" for c in ["red", "blue", "green", "yellow", "orange", "purple", "pink",
                                                       "white", "black", "gray", "brown", "cyan", "gold", "silver"])
    result = parse_prompt(text)
    result.spec.validate()
    assert len(result.spec.objects) == 12
    assert sum(o.count for o in result.spec.objects) == 40
    assert any("at most 12" in n for n in result.notes) and any("40" in n for n in result.notes)


def test_silence_is_said() -> None:
    result = parse_prompt("a ball bounces silently")
    assert result.spec.ambience is False
    assert any("ambience" in n for n in result.notes)


def test_names_are_unique_and_refer_to_objects() -> None:
    result = parse_prompt("a ball, another ball and a red ball")
    names = [o.name for o in result.spec.objects]
    assert len(names) == 3 and len(set(names)) == 3
    colours = [o.color for o in result.spec.objects]
    assert len(set(colours)) == 3  # unnamed colours come from a palette, distinct from the said ones


def test_definite_mention_refers_back() -> None:
    result = parse_prompt("A blue ball falls from 2 m. The ball turns red and bounces.")
    assert len(result.spec.objects) == 1
    ball = result.spec.objects[0]
    assert ball.color == "red" and ball.height == 2.0 and ball.name == "red ball"


def test_base_continuation_keeps_objects_and_applies_changes() -> None:
    base = parse_prompt("a red ball and a blue cube on grass at sunset, wide shot").spec
    before = base.to_json()
    result = parse_prompt("The ball turns green. A yellow cylinder appears. Close-up, night, the camera orbits.", base=base)
    spec = result.spec
    assert base.to_json() == before  # base itself is untouched
    assert [o.shape for o in spec.objects] == ["ball", "cube", "cylinder"]
    assert spec.objects[0].color == "green" and spec.objects[0].name == "green ball"
    assert spec.objects[1].color == "blue" and spec.objects[1].name == "blue cube"
    assert spec.objects[2].color == "yellow"
    assert spec.environment.floor == "grass"  # kept
    assert spec.camera.shot == "close" and spec.camera.move == "orbit" and spec.lighting.time_of_day == "night"


def test_base_mention_does_not_duplicate() -> None:
    base = parse_prompt("a red ball").spec
    for text in ["a ball rolls to the left", "the red ball", "a red ball bounces"]:
        spec = parse_prompt(text, base=base).spec
        assert len(spec.objects) == 1, text
    spec = parse_prompt("a ball rolls to the left", base=base).spec
    assert spec.objects[0].velocity[0] < 0


def test_base_pronoun_and_bare_verbs_apply_to_first_object() -> None:
    base = parse_prompt("a red ball on a table").spec
    spec = parse_prompt("it falls from 1.5 m", base=base).spec
    assert spec.objects[0].height == 1.5 and spec.environment.table


@pytest.mark.parametrize(
    "prompt",
    ["a red ball and a blue cube on a ramp at 25 degrees, orbit, sunset, slow motion",
     "two balls collide head-on on a table in a room at night, bird's-eye view, 50mm lens",
     "a row of 10 dominoes, tracking shot, silent", ""],
)
def test_json_round_trip(prompt: str) -> None:
    spec = parse_prompt(prompt).spec
    again = SceneSpec.from_json(spec.to_json())
    assert again == spec
    assert json.loads(again.to_json()) == json.loads(spec.to_json())


@pytest.mark.parametrize(
    "prompt",
    ["Una pelota roja rebota en el suelo", "一个红色的球从桌子上掉下来", "asdf qwer zxcv ;;;; 12345", "🙂🙂🙂", "   ", "",
     "ＢＡＬＬ", "Ball!!! FALLS??? from... 2M"],
)
def test_foreign_and_gibberish_get_a_default_scene(prompt: str) -> None:
    result = parse_prompt(prompt)
    result.spec.validate()
    assert len(result.spec.objects) >= 1
    assert_honest(prompt, result)


def test_unicode_is_normalised() -> None:
    result = parse_prompt("ＴＨＲＥＥ Ｒｅｄ ＢＡＬＬＳ fall from ２ m")
    assert result.spec.objects[0].count == 3 and result.spec.objects[0].color == "red"
    assert result.spec.objects[0].height == 2.0


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_fuzz_never_crashes() -> None:
    rng = random.Random(1234)
    words = ["a", "the", "red", "ball", "three", "cube", "falls", "from", "2", "m", "slow", "motion", "pan", "left",
             "collides", "with", "dragon", "of", "stacked", "1e9", "-5", "°", "x", "it", "turns", "blue", "on", "ramp",
             "degrees", "lit", "1000", "cm", "m/s", "0", "zero", "gravity", ",", ".", "dominoes", "row", "a row of"]
    alphabet = "abc xyz 0123456789 .,;!?/°×-'’\"éüßçñ漢字🙂\u200b\u0301\t\n"
    for n in range(300):
        if n % 2:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        result = parse_prompt(text)
        result.spec.validate()
        assert not any("invalid" in note for note in result.notes), (text, result.notes)
        assert_honest(text, result)
    base = parse_prompt("a red ball and a blue cube").spec
    for _ in range(50):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        result = parse_prompt(text, base=base)
        result.spec.validate()
        assert len(result.spec.objects) >= 2


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_long_text_does_not_crash() -> None:
    result = parse_prompt(("a red ball falls and " * 600) + "x" * 10_000)
    result.spec.validate()
    assert len(result.spec.objects) >= 1


def test_light_direction_versus_camera_angle() -> None:
    lit = parse_prompt("a ball lit from above").spec
    seen = parse_prompt("a ball seen from above").spec
    assert lit.lighting.key_direction == [0.0, 0.0, -1.0] and lit.camera.elevation == -15.0
    assert seen.camera.elevation == -60.0 and seen.lighting.key_direction == SceneSpec().lighting.key_direction


def test_camera_direction_words() -> None:
    assert parse_prompt("the camera tilts up over a cube").spec.camera.direction == 1
    assert parse_prompt("the camera tilts down over a cube").spec.camera.direction == -1
    assert parse_prompt("pan to the right across three balls").spec.camera.direction == 1
    assert parse_prompt("zoom in on a ball").spec.camera.move == "zoom"


def test_colour_after_noun_needs_a_linking_word() -> None:
    spec = parse_prompt("a ball rolls under blue light").spec
    assert spec.objects[0].color != "blue" and spec.lighting.mood == "cool"
    spec = parse_prompt("two metal spheres collide on ice").spec
    assert all(o.material == "metal" for o in spec.objects)
    spec = parse_prompt("a cube made of glass").spec
    assert spec.objects[0].material == "glass"


def test_conjoined_subjects_share_the_verb() -> None:
    spec = parse_prompt("a red ball and a blue cube fall from 2 m").spec
    assert [o.height for o in spec.objects] == [2.0, 2.0]
    spec = parse_prompt("a ball and a cube collide").spec
    assert spec.objects[0].velocity[0] > 0 > spec.objects[1].velocity[0]


def test_unsupported_effects_are_explained() -> None:
    result = parse_prompt("a ball in the fog, shallow depth of field")  # fog is weather, focus a look effect now
    assert result.spec.environment.weather == "fog" and result.spec.effects == ["rack_focus"]
    result = parse_prompt("a ball explodes, lens flare")
    assert "lens flare" in result.ignored and "lens flare" in result.unshown
    assert any("lens flare" in n for n in result.notes)


def test_ramp_rolling_lets_gravity_start_it() -> None:
    spec = parse_prompt("a ball rolls down a ramp").spec
    assert spec.environment.ramp_angle == 20.0 and spec.objects[0].velocity == [0.0, 0.0, 0.0]
    result = parse_prompt("a ball tilted at 30 degrees")
    assert result.spec.environment.ramp_angle is None and "30 degrees" in result.ignored


def test_absurd_numbers_are_clamped_with_notes() -> None:
    result = parse_prompt("a ball dropped from 500 metres at 1000 m/s, 100x slow motion, a ramp at 89 degrees")
    spec = result.spec
    spec.validate()
    assert spec.objects[0].height == 20.0 and spec.pacing.speed == 0.05 and spec.environment.ramp_angle == 60.0
    assert all(abs(v) <= 50.0 for v in spec.objects[0].velocity)
    assert len([n for n in result.notes if "using" in n or "clamped" in n]) >= 3


def test_base_only_camera_and_light_change() -> None:
    base = parse_prompt("three red balls on a table, slow motion").spec
    spec = parse_prompt("close-up, the camera orbits, dusk", base=base).spec
    assert spec.objects == base.objects and spec.environment == base.environment
    assert spec.pacing.speed == 0.25  # pacing not mentioned: kept
    assert spec.camera.move == "orbit" and spec.camera.shot == "close" and spec.lighting.time_of_day == "dusk"


def test_parse_result_to_dict_is_json() -> None:
    result = parse_prompt("a red ball")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["used"] == ["red", "ball"] and data["spec"]["objects"][0]["name"] == "red ball"


def test_vocabulary_values_are_valid_spec_values() -> None:
    """A data edit that names a colour, material, floor, mood or camera move the spec lacks fails here."""
    from sora_lite.engines.world import spec as S
    from sora_lite.engines.world.parse import VOCABULARY_PATH

    vocab = json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))
    assert set(vocab["colors"].values()) <= set(S.COLORS)
    assert set(vocab["materials"].values()) <= set(S.MATERIALS)
    assert set(vocab["floor_from_material"].values()) <= set(S.FLOORS)
    assert set(vocab["default_palette"]) <= set(S.COLORS)
    for entry in vocab["shapes"].values():
        assert entry["shape"] in S.SHAPES
        assert entry.get("material", "rubber") in S.MATERIALS and entry.get("color", "red") in S.COLORS
    for entry in vocab["environment"].values():
        assert entry.get("floor", "checker") in S.FLOORS and entry.get("backdrop", "sky") in S.BACKDROPS
    for entry in vocab["lighting"].values():
        assert entry.get("time_of_day", "noon") in S.TIMES_OF_DAY and entry.get("mood", "neutral") in S.MOODS
    for entry in vocab["camera"].values():
        assert entry.get("move", "static") in S.CAMERA_MOVES and entry.get("shot", "wide") in S.SHOT_SIZES
    for entry in vocab["motions"].values():
        assert entry.get("arrangement", "auto") in S.ARRANGEMENTS
    for phrase in vocab["colors"]:  # every vocabulary word parses to what the table says
        result = parse_prompt(f"a {phrase} ball")
        assert result.spec.objects[0].color == vocab["colors"][phrase], phrase
    for phrase, material in vocab["materials"].items():
        assert parse_prompt(f"a {phrase} cube").spec.objects[0].material == material, phrase
    for phrase, entry in vocab["shapes"].items():
        spec = parse_prompt(f"a {phrase}").spec
        assert len(spec.objects) == 1 and spec.objects[0].shape == entry["shape"], phrase


def test_left_right_relations_order_the_entries() -> None:
    spec = parse_prompt("a red ball to the right of a yellow cylinder").spec
    assert [o.shape for o in spec.objects] == ["cylinder", "ball"]  # entries are laid out left to right
    assert all(o.velocity == [0.0, 0.0, 0.0] for o in spec.objects)  # a place, not a motion
    spec = parse_prompt("a red ball to the left of a yellow cylinder").spec
    assert [o.shape for o in spec.objects] == ["ball", "cylinder"]


def test_camera_direction_across_adverbs() -> None:
    result = parse_prompt("The camera pans slowly from left to right across a red ball.")
    assert result.spec.camera.move == "pan" and result.spec.camera.direction == 1
    assert result.spec.objects[0].velocity == [0.0, 0.0, 0.0]
    assert result.spec.lighting.key_direction == SceneSpec().lighting.key_direction


def test_pendulum_length() -> None:
    spec = parse_prompt("A green pendulum bob on a 0.5 metre string swings back and forth.").spec
    assert len(spec.objects) == 1 and spec.objects[0].shape == "pendulum" and spec.objects[0].length == 0.5
    assert spec.objects[0].height is None
    assert parse_prompt("a 2 m pendulum").spec.objects[0].length == 2.0
    result = parse_prompt("a ball on a 1 m string")
    assert result.spec.objects[0].length is None and "1 m" in result.ignored


def test_outcome_words_are_neither_used_nor_ignored() -> None:
    result = parse_prompt("A blue rubber ball drops onto a wooden floor and bounces until it settles.")
    assert result.ignored == []
    assert result.spec.objects[0].height == 1.0 and result.spec.environment.floor == "wood"


def test_front_behind_on_top_pin_positions() -> None:
    spec = parse_prompt("A blue cylinder in front of a purple ball.").spec
    cyl, ball = spec.objects
    assert cyl.position[1] < ball.position[1]  # -y is toward the camera
    spec = parse_prompt("A yellow capsule behind a pink cube.").spec
    assert spec.objects[0].position[1] > spec.objects[1].position[1]
    spec = parse_prompt("An orange cube on top of a white cube on a table").spec
    top, bottom = spec.objects
    assert top.position[:2] == bottom.position[:2]
    assert math.isclose(top.position[2] - bottom.position[2], top.size + bottom.size, abs_tol=0.01)
    assert bottom.position[2] > bottom.size + 0.3  # standing on the table, not the floor
    spec.validate()


def test_names_follow_colour_and_shape() -> None:
    spec = parse_prompt("a crimson sphere, a navy crate and two metal spheres collide").spec
    names = [o.name for o in spec.objects]
    assert names[:2] == ["red ball", "blue cube"]
    assert len(set(names)) == len(names) and len(spec.object_names()) == len(set(spec.object_names()))


def test_a_cameo_is_framed_in_a_medium_shot_unless_a_shot_size_is_asked() -> None:
    framed = parse_prompt("@alice drops a red ball")
    assert framed.spec.camera.shot == "medium" and framed.spec.camera.target == "@alice"
    assert any("medium shot" in n for n in framed.notes)
    assert parse_prompt("@alice drops a red ball, wide shot").spec.camera.shot == "wide"
    assert parse_prompt("a red ball").spec.camera.shot == "wide"
