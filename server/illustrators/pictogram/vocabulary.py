"""Every hand-made word list of the pictogram illustrator, in one place.

Two kinds: what the emoji names, CLDR keywords and WordNet together get wrong or miss for everyday
speech (:data:`SYNONYMS`, :data:`ACTIONS`, :data:`MISLEADING_WORDS`, :data:`GENERAL_CATEGORIES`),
and the few closed classes of English that reading a transcript without a tagger leans on
(:data:`STOP_WORDS`, :data:`DETERMINERS`, :data:`VERB_CUES`, :data:`NUMBER_WORDS`).

Words are lower case, as a transcript is read. Emoji are named as the ``emoji`` package spells
them (``:name:`` without the colons).
"""

from __future__ import annotations

SYNONYMS: dict[str, str] = {
    # Everyday words no emoji is named or keyworded by.
    "kitten": "cat",
    "puppy": "dog",
    "kid": "child",
    "plane": "airplane",
    "music": "musical_note",
    "song": "musical_note",
    "love": "red_heart",
    "sea": "water_wave",
    "ocean": "water_wave",
    "snow": "snowflake",
    "wine": "wine_glass",
    "king": "crown",
    "queen": "crown",
    "moon": "crescent_moon",
    "flower": "tulip",
    "night": "night_with_stars",
    "city": "cityscape",
    "stop": "stop_sign",
    "zoo": "elephant",
    "table": "fork_and_knife_with_plate",
    "weather": "sun_behind_cloud",
    "sky": "cloud",
    "wind": "wind_face",
    "storm": "cloud_with_lightning_and_rain",
    "garden": "potted_plant",
    "park": "deciduous_tree",
    "forest": "evergreen_tree",
    "tree": "deciduous_tree",
    "grass": "herb",
    "lunch": "fork_and_knife_with_plate",
    "dinner": "fork_and_knife_with_plate",
    "breakfast": "cooking",
    "meal": "fork_and_knife_with_plate",
    "food": "fork_and_knife_with_plate",
    "supper": "fork_and_knife_with_plate",
    "juice": "beverage_box",
    "soda": "cup_with_straw",
    "dessert": "shortcake",
    "sweets": "candy",
    "toy": "teddy_bear",
    "game": "video_game",
    "book": "open_book",
    "story": "open_book",
    "homework": "memo",
    "letter": "envelope",
    "picture": "framed_picture",
    "photo": "camera",
    "phone": "mobile_phone",
    "computer": "laptop",
    "tv": "television",
    "film": "film_frames",
    "movie": "clapper_board",
    "party": "party_popper",
    "birthday": "birthday_cake",
    "present": "wrapped_gift",
    "gift": "wrapped_gift",
    "doctor": "stethoscope",
    "hospital": "hospital",
    "police": "police_car_light",
    "money": "money_bag",
    "shop": "shopping_cart",
    "store": "shopping_cart",
    "market": "shopping_cart",
    "street": "motorway",
    "road": "motorway",
    "bike": "bicycle",
    "ship": "ship",
    "boat": "sailboat",
    "car": "automobile",
    "bus": "bus",
    "train": "locomotive",
    "truck": "delivery_truck",
    "fire truck": "fire_engine",
    "swimming pool": "person_swimming",
    "hot air balloon": "balloon",
    "hat": "top_hat",
    "bow": "ribbon",
    "dinosaur": "sauropod",
    "pilot": "airplane",
    "chef": "cooking",
    "submarine": "ship",
    "knight": "shield",
    "farm": "tractor",
    "library": "books",
    "restaurant": "fork_and_knife_with_plate",
    "lamp": "light_bulb",
    "desk": "desktop_computer",
    "oven": "cooking",
    "airport": "airplane_departure",
    "playground": "playground_slide",
    "hill": "mountain",
    "sand": "beach_with_umbrella",
    "branch": "leaf_fluttering_in_wind",
    "nails": "hammer",
    "arm": "flexed_biceps",
    "box": "package",
    "bowl": "bowl_with_spoon",
    "field": "sheaf_of_rice",
    "pond": "water_wave",
    "lake": "water_wave",
    "river": "water_wave",
    "acorn": "chestnut",
    "windy": "wind_face",
    "sunny": "sun",
    "rainy": "cloud_with_rain",
    "snowy": "snowflake",
    "cloudy": "cloud",
    "foggy": "fog",
    "winter": "snowflake",
    "summer": "sun",
    "autumn": "fallen_leaf",
    "spring": "blossom",
    "lorry": "delivery_truck",
    "sun": "sun",
    "sunshine": "sun",
    "star": "star",
    "space": "ringed_planet",
    "planet": "ringed_planet",
    "earth": "globe_showing_Europe-Africa",
    "world": "globe_showing_Europe-Africa",
    "baby": "baby",
    "mom": "woman",
    "mum": "woman",
    "mother": "woman",
    "dad": "man",
    "father": "man",
    "grandma": "old_woman",
    "grandmother": "old_woman",
    "grandpa": "old_man",
    "grandfather": "old_man",
    "friend": "people_hugging",
    "family": "family",
    "teacher": "books",
    "school": "school",
    "class": "school",
    "home": "house",
    "room": "bed",
    "bedroom": "bed",
    "kitchen": "cooking",
    "bath": "bathtub",
    "shower": "shower",
    "window": "window",
    "door": "door",
    "happy": "grinning_face",
    "glad": "grinning_face",
    "sad": "crying_face",
    "unhappy": "crying_face",
    "angry": "angry_face",
    "mad": "angry_face",
    "scared": "fearful_face",
    "afraid": "fearful_face",
    "tired": "sleepy_face",
    "sleepy": "sleepy_face",
    "sick": "face_with_thermometer",
    "ill": "face_with_thermometer",
    "surprised": "astonished_face",
    "excited": "star-struck",
    "bored": "expressionless_face",
    "hungry": "fork_and_knife_with_plate",
    "thirsty": "cup_with_straw",
    "cold": "cold_face",
    "hot": "hot_face",
    "silly": "zany_face",
    "funny": "face_with_tears_of_joy",
    "proud": "smiling_face_with_sunglasses",
    "lonely": "pensive_face",
    "worried": "worried_face",
    "nervous": "anxious_face_with_sweat",
    "calm": "relieved_face",
    "shy": "smiling_face_with_open_hands",
    "loved": "smiling_face_with_hearts",
    "hello": "waving_hand",
    "hi": "waving_hand",
    "goodbye": "waving_hand",
    "bye": "waving_hand",
    "thanks": "folded_hands",
    "sorry": "pleading_face",
}
"""Word → the emoji that pictures it best, ahead of every other match."""

ACTIONS: dict[str, str] = {
    "eat": "fork_and_knife",
    "cook": "cooking",
    "bake": "bread",
    "drink": "cup_with_straw",
    "fly": "dashing_away",
    "run": "dashing_away",
    "race": "dashing_away",
    "drive": "dashing_away",
    "ride": "dashing_away",
    "rush": "dashing_away",
    "hurry": "dashing_away",
    "chase": "dashing_away",
    "go": "right_arrow",
    "walk": "footprints",
    "jump": "collision",
    "hit": "collision",
    "kick": "collision",
    "crash": "collision",
    "sleep": "sleeping_face",
    "nap": "sleeping_face",
    "dream": "thought_balloon",
    "think": "thought_balloon",
    "say": "speech_balloon",
    "talk": "speech_balloon",
    "tell": "speech_balloon",
    "ask": "red_question_mark",
    "sing": "musical_notes",
    "dance": "musical_notes",
    "play": "sparkles",
    "love": "red_heart",
    "like": "red_heart",
    "kiss": "kiss_mark",
    "hug": "red_heart",
    "read": "open_book",
    "write": "writing_hand",
    "draw": "pencil",
    "paint": "artist_palette",
    "build": "hammer",
    "fix": "wrench",
    "swim": "water_wave",
    "splash": "sweat_droplets",
    "wash": "soap",
    "clean": "sparkles",
    "look": "eyes",
    "watch": "eyes",
    "see": "eyes",
    "find": "magnifying_glass_tilted_left",
    "search": "magnifying_glass_tilted_left",
    "listen": "ear",
    "hear": "ear",
    "call": "telephone_receiver",
    "climb": "up_arrow",
    "fall": "down_arrow",
    "give": "wrapped_gift",
    "win": "trophy",
    "cry": "droplet",
    "laugh": "face_with_tears_of_joy",
    "smile": "slightly_smiling_face",
    "burn": "fire",
    "melt": "droplet",
    "grow": "seedling",
    "shine": "sparkles",
    "rain": "droplet",
    "snow": "snowflake",
    "fight": "collision",
    "catch": "raised_hand",
    "throw": "collision",
    "wave": "waving_hand",
    "shop": "shopping_cart",
    "buy": "shopping_cart",
    "pay": "money_with_wings",
    "learn": "light_bulb",
    "study": "light_bulb",
    "sit": "chair",
    "wait": "hourglass_not_done",
    "celebrate": "party_popper",
    "ring": "bell",
}
"""Verb (its lemma) → the small glyph set between a doer and what it acts on."""

MISLEADING_WORDS = frozenset(
    """
    die dies prints will may can saw left kind lot bit mean time thing way day pair full best old soft
    loud big little new good great
    """.split()
)
"""Words whose emoji pictures another sense: "the battery dies" is no die (🎲), "it prints" no paw
prints (🐾), "I saw" no saw (🪚), "turn left" no left arrow."""

GENERAL_CATEGORIES = frozenset(
    """
    construction structure artifact artefact object whole unit thing entity matter substance material
    device instrumentality container covering equipment facility area region location place
    """.split()
)
"""WordNet categories too general to picture what is below them: a barn is a "structure", and
🚧 (construction) is no picture of a barn."""

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else even ever
    every few for from further get gets got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let lets like made make many me might more
    most much must my myself near no nor not now of off oh ok okay on once only or other our ours
    ourselves out over own please quite really said same say says see she should so some such
    than that the their theirs them themselves then there these they this those through to too
    under until up upon us very want wants was we well were what when where which while who whom
    why will with would yeah yes yet you your yours yourself yourselves
    """.split()
)
"""Words never looked up on their own; a longer name they are part of is tried first and still matches."""

DETERMINERS = frozenset("a an the my your his her its our their this that these those some any every each no".split())
"""Words after which a word is a noun, whatever else it can be ("a fly", "the building")."""

VERB_CUES = frozenset(
    """to i you we they he she it who will would can could should must might may shall lets let
    is are was were am be been do does did don't didn't doesn't not""".replace("'", "").split()
)
"""Words after which a word that can be a verb is one ("to swim", "they dance", "is eating")."""

NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "couple": 2,
    "dozen": 12,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "million": 1000000,
}
"""Number words → how many things they count ("two penguins", "a couple of dogs")."""
