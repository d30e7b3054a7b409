"""How many everyday phrases the offline pictogram illustrator can picture.

For each phrase below, asks the real illustrator what its picture shows
(``PictogramIllustrator.read``, the reading it draws from) and prints:

* the share of phrases whose picture has at least one pictogram for a content word (target ≥ 95 %);
* the share, among phrases that name a thing, where every noun said got a pictogram (target ≥ 75 %).
  The nouns are hand labels kept in ``illustrator_nouns.txt`` beside this file (never the
  illustrator's own idea of which words are nouns); a noun counts as pictured when a pictogram was
  drawn for words that include it whole ("glass of milk" pictures the milk; "train" is not the
  "train station");

then, per group, the phrases that missed, so the vocabulary can be improved where it fails.

    python -m benchmarks.illustrator_coverage [--show-all]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from voxprint.server.illustrators.pictogram import PictogramIllustrator

ANY_TARGET = 0.95
EVERY_NOUN_TARGET = 0.75
NOUNS_FILE = Path(__file__).with_name("illustrator_nouns.txt")

PHRASES: dict[str, list[str]] = {
    "objects": [
        "a red chair",
        "the kitchen table",
        "a lamp on the desk",
        "my new shoes",
        "an umbrella by the door",
        "a clock on the wall",
        "a pair of scissors",
        "a key and a lock",
        "a pencil and a notebook",
        "a cup of tea",
        "a big blue balloon",
        "the book on the shelf",
        "a hammer and some nails",
        "a candle in the window",
        "a mirror in the bathroom",
        "a soft pillow",
        "my backpack",
        "a broom and a bucket",
        "a box of crayons",
        "the television is on",
        "a guitar and a drum",
        "a light bulb",
        "a toothbrush and toothpaste",
        "a pair of glasses",
        "a telephone ringing",
        "an old camera",
        "a basket of apples",
        "a ladder against the house",
        "a kite in the sky",
        "a bottle of water",
        "a teddy bear on the bed",
        "a gift with a bow",
        "the sofa in the living room",
        "a watch on my wrist",
        "a comb and a brush",
    ],
    "animals": [
        "a cat",
        "two dogs",
        "a horse in a field",
        "a cow eating grass",
        "three little pigs",
        "a sheep on the hill",
        "a duck in the pond",
        "an owl in a tree",
        "a fox in the snow",
        "a bear catching fish",
        "a lion and a tiger",
        "an elephant with a long trunk",
        "a giraffe eating leaves",
        "a zebra and a hippo",
        "a monkey with a banana",
        "a snake in the grass",
        "a frog on a lily pad",
        "a turtle on the beach",
        "a shark in the sea",
        "a whale jumping out of the ocean",
        "a dolphin swimming",
        "an octopus with eight arms",
        "a butterfly on a flower",
        "a bee and a honeycomb",
        "a spider in its web",
        "a snail in the rain",
        "a rabbit eating a carrot",
        "a mouse and some cheese",
        "a squirrel with an acorn",
        "a robin on a branch",
        "a parrot that talks",
        "a kangaroo jumping",
        "a penguin on the ice",
        "a camel in the desert",
        "a crab on the sand",
        "puppies playing",
        "kittens sleeping",
        "a wolf howling at the moon",
        "a deer in the forest",
        "a chicken and her eggs",
    ],
    "food": [
        "pizza for dinner",
        "a hamburger and fries",
        "spaghetti with meatballs",
        "a bowl of soup",
        "a slice of bread with butter",
        "pancakes for breakfast",
        "a chocolate cake",
        "an apple and a banana",
        "strawberries and cream",
        "a glass of milk",
        "a cup of coffee",
        "orange juice",
        "a sandwich for lunch",
        "popcorn at the movies",
        "ice cream in a cone",
        "a hot dog",
        "cookies and milk",
        "a bowl of rice",
        "sushi",
        "tacos",
        "a watermelon",
        "grapes and cheese",
        "a carrot and a potato",
        "a tomato salad",
        "fried eggs",
        "a cupcake with a candle",
        "a lollipop",
        "a doughnut",
        "a pineapple",
        "a lemon",
        "broccoli",
        "a pear and a peach",
        "corn on the cob",
        "a pie in the oven",
        "a bag of candy",
    ],
    "places": [
        "the beach",
        "a house with a garden",
        "a castle on a hill",
        "the school",
        "the hospital",
        "a big city",
        "the park",
        "the zoo",
        "a farm with a barn",
        "the mountains",
        "a volcano",
        "an island with palm trees",
        "the library",
        "a church",
        "a tent in the woods",
        "the supermarket",
        "a playground",
        "the airport",
        "a train station",
        "a bridge over the river",
        "a lighthouse by the sea",
        "a museum",
        "the desert",
        "a swimming pool",
        "a cave",
        "the office",
        "a restaurant",
        "a circus",
        "a stadium",
        "space",
    ],
    "weather": [
        "it is raining",
        "a sunny day",
        "snow is falling",
        "a thunderstorm",
        "a rainbow after the rain",
        "a windy day",
        "fog in the morning",
        "a cloudy sky",
        "a tornado",
        "the sun is shining",
        "a cold winter night",
        "a hot summer day",
        "lightning in the sky",
        "a snowman",
        "stars at night",
        "the full moon",
        "a storm at sea",
        "falling leaves in autumn",
        "spring flowers",
        "an icicle",
    ],
    "actions": [
        "I am running",
        "she is dancing",
        "we are singing",
        "he likes to swim",
        "reading a book",
        "writing a letter",
        "painting a picture",
        "cooking dinner",
        "riding a bike",
        "driving a car",
        "playing football",
        "playing the piano",
        "sleeping in bed",
        "brushing my teeth",
        "taking a bath",
        "climbing a tree",
        "flying a kite",
        "building a sandcastle",
        "walking the dog",
        "fishing in the lake",
        "skiing down the mountain",
        "skating on the ice",
        "baking cookies",
        "watching a movie",
        "listening to music",
        "washing the car",
        "planting a tree",
        "drinking water",
        "throwing a ball",
        "laughing out loud",
        "crying",
        "jumping on the trampoline",
        "hugging my mom",
        "calling grandma",
        "shopping for shoes",
    ],
    "people": [
        "a baby",
        "my mom and dad",
        "a grandmother knitting",
        "a grandfather with a cane",
        "a doctor",
        "a nurse",
        "a teacher",
        "a firefighter",
        "a police officer",
        "a farmer with a tractor",
        "a chef",
        "an astronaut",
        "a pilot",
        "a king and a queen",
        "a princess",
        "a pirate",
        "a wizard",
        "a clown",
        "a ninja",
        "a superhero",
        "a family",
        "my best friend",
        "a boy and a girl",
        "twins",
        "a scientist",
        "a singer",
        "a mermaid",
        "a fairy",
        "a vampire",
        "a detective",
        "an artist",
        "a builder",
        "the postman",
        "my brother",
        "my sister",
    ],
    "vehicles": [
        "a red car",
        "a yellow bus",
        "a fire truck",
        "a police car",
        "an ambulance",
        "a train",
        "an airplane",
        "a helicopter",
        "a rocket",
        "a boat on the lake",
        "a sailboat",
        "a ship",
        "a bicycle",
        "a motorcycle",
        "a tractor",
        "a taxi",
        "a scooter",
        "a submarine",
        "a hot air balloon",
        "a skateboard",
        "a canoe",
        "a truck",
        "a racing car",
        "a spaceship",
        "a tram",
    ],
    "feelings": [
        "I am happy",
        "I feel sad",
        "he is angry",
        "she is scared",
        "I am tired",
        "we are excited",
        "I feel sick",
        "I am hungry",
        "I love you",
        "I am bored",
        "a big smile",
        "feeling silly",
        "I am surprised",
        "I am proud",
        "so lonely",
        "I am worried",
        "I am cold",
        "it is hot",
        "feeling calm",
        "I am sleepy",
    ],
    "requests": [
        "a dragon eating ice cream",
        "a unicorn on a rainbow",
        "a dinosaur playing football",
        "a cat riding a bicycle",
        "a robot making pancakes",
        "a pirate ship full of bananas",
        "an elephant on a skateboard",
        "a rocket flying to the moon",
        "a monster under my bed",
        "a princess and a frog",
        "a dog wearing a hat",
        "a penguin eating pizza",
        "a bear playing the guitar",
        "an alien in a flying saucer",
        "a shark with sunglasses",
        "two cats and a mouse",
        "a ghost in the castle",
        "a horse with wings",
        "a giant strawberry",
        "a owl reading a book",
        "a tiger driving a car",
        "a snowman at the beach",
        "a fish in a bowl",
        "a monkey eating a banana",
        "a turtle racing a rabbit",
        "a witch on a broom",
        "three ducks in a boat",
        "a dragon and a knight",
        "a pig in the mud",
        "a castle made of cake",
        "a mermaid with a dolphin",
        "an octopus playing drums",
        "a lion with a crown",
        "a robot dog",
        "a butterfly on my nose",
        "a spider on the ceiling",
        "a giraffe wearing a scarf",
        "a cow jumping over the moon",
        "a zebra eating spaghetti",
        "a frog playing the violin",
        "a bunny in a basket",
        "a dinosaur at the zoo",
        "a koala in a tree",
        "a wizard with a magic wand",
        "a fox and a hen",
        "a kitten chasing a ball",
        "a superhero flying over the city",
        "a train full of toys",
        "a snail with a house",
        "a rainbow over the mountains",
    ],
}


def hand_labels(phrases: list[str]) -> dict[str, list[str]]:
    """The labelled nouns of each phrase, checked: every phrase labelled once, every noun said in it."""
    labels: dict[str, list[str]] = {}
    for line in NOUNS_FILE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        phrase, _, nouns = (part.strip() for part in line.partition("|"))
        labels[phrase] = [noun.strip() for noun in nouns.split(",") if noun.strip()]
        for noun in labels[phrase]:
            if not re.search(rf"\b{re.escape(noun)}\b", phrase):
                raise ValueError(f"{NOUNS_FILE.name}: {noun!r} is not said in {phrase!r}")
    if unlabelled := set(phrases) - set(labels):
        raise ValueError(f"{NOUNS_FILE.name} has no labels for {sorted(unlabelled)}")
    return {phrase: labels[phrase] for phrase in phrases}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-all", action="store_true", help="print every phrase and what it drew")
    arguments = parser.parse_args()

    illustrator = PictogramIllustrator()
    phrases = [phrase for group in PHRASES.values() for phrase in group]
    started = time.perf_counter()
    readings = {phrase: illustrator.read(phrase) for phrase in phrases}
    elapsed = time.perf_counter() - started

    labels = hand_labels(phrases)
    unpictured = {
        phrase: [noun for noun in labels[phrase] if not any(pictures(p.said, noun) for p in reading.pictograms)]
        for phrase, reading in readings.items()
    }
    pictured = [phrase for phrase, reading in readings.items() if reading.pictograms]
    naming = [phrase for phrase in phrases if labels[phrase]]
    every_noun = [phrase for phrase in naming if not unpictured[phrase]]
    for group, members in PHRASES.items():
        judged = [phrase for phrase in members if labels[phrase]]
        misses = [phrase for phrase in judged if unpictured[phrase]]
        print(f"{group:>9}: {len(judged) - len(misses)}/{len(judged)} naming a thing fully pictured")
        for phrase in members if arguments.show_all else misses:
            reading = readings[phrase]
            drawn = " ".join(f"{p.glyph}×{p.count}({p.said})" for p in reading.pictograms) or "—"
            missing = f"  missing: {', '.join(unpictured[phrase])}" if unpictured[phrase] else ""
            print(f"           {phrase!r}: {drawn}{missing}")

    any_share = len(pictured) / len(phrases)
    every_share = len(every_noun) / len(naming)
    nouns = sum(len(labels[phrase]) for phrase in phrases)
    missed_nouns = sum(len(unpictured[phrase]) for phrase in phrases)
    # What the illustrator would claim of itself, by its own idea of the nouns: for comparison only.
    self_judged = sum(1 for phrase in naming if readings[phrase].pictograms and not readings[phrase].unpictured_nouns)
    print()
    print(f"phrases: {len(phrases)} (read in {elapsed:.2f} s, including loading the vocabulary)")
    print(
        f"at least one pictogram for a content word: {len(pictured)}/{len(phrases)} = {any_share:.1%}"
        f" (target ≥ {ANY_TARGET:.0%}: {met(any_share >= ANY_TARGET)})"
    )
    print(
        f"every noun said got a pictogram:           {len(every_noun)}/{len(naming)} phrases naming a thing"
        f" = {every_share:.1%} (target ≥ {EVERY_NOUN_TARGET:.0%}: {met(every_share >= EVERY_NOUN_TARGET)})"
    )
    print(f"  labelled nouns pictured: {nouns - missed_nouns}/{nouns} ({NOUNS_FILE.name}, hand labels)")
    print(f"  by the illustrator's own noun guesses it would be {self_judged}/{len(naming)} (not the verdict)")
    return 0 if any_share >= ANY_TARGET and every_share >= EVERY_NOUN_TARGET else 1


def pictures(said: str, noun: str) -> bool:
    """Whether a pictogram drawn for the words ``said`` pictures ``noun``: they include it whole."""
    return re.search(rf"\b{re.escape(noun.lower())}\b", said.lower()) is not None


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


if __name__ == "__main__":
    sys.exit(main())
