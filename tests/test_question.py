"""What a question asks for, and whether an answer gives it (pure logic)."""

import pytest

from rag.question import (
    asks_for,
    gives,
    guessed_speaker,
    parts,
    quantities_asked,
    statement,
    unmet_names,
    whose_words,
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When will Tarsa households receive the payments?", "time"),
        ("On what date is the maternity unit scheduled to shut?", "time"),
        ("What day of the week did the river overflow?", "time"),
        ("Which day did Blinken call Aliyev?", "time"),
        ("How many days did the stoppage last?", "quantity"),
        ("How much did the bridge cost?", "quantity"),
        ("What death toll did the minister give?", "quantity"),
        ("Who said the valve had been replaced?", None),
        ("Why was the school closed?", None),
        ("Which leader did Blinken phone first?", "person"),
        ("Which State Department spokesperson gave the readout?", "person"),
        ("Which governor ordered the evacuation?", "person"),  # a governor, not a government
        ("At which hospital did he die?", "proper name"),
        ("Which regional radio stations were suspended?", "proper name"),
        ("Which European government did Moscow single out?", "proper name"),
        ("Which measure did the council announce?", None),  # a measure may be named in lower case
        ("Which of the two ministers spoke first?", None),
        ("What did the ministry say about the day of the talks?", None),
        ("What were the names of the miners who died?", "name"),
        ("What's the name of the trawler's skipper?", "name"),
    ],
)
def test_what_a_question_asks_for(question, kind):
    assert asks_for(question) == kind


@pytest.mark.parametrize(
    "question, answer, ok",
    [
        ("When will households be paid?", "The government said it would pay 5,000 crowns to every household.", False),
        ("When will households be paid?", "Payments start on Monday.", True),
        ("When will the tariff end?", "Kovia said it would be removed within two years.", True),
        ("When will the tariff end?", "Vos said the agreement sets no date for removing it.", True),
        ("When was the dispatch filed?", "It was filed on 30.04.23.", True),  # a numeric date
        ("When was the dispatch filed?", "Turan filed it from Washington.", False),
        ("When was the dispatch filed?", "It was filed in 2023.", True),
        ("How many boats were sent?", "Open Hands delivered 40 tonnes of food.", False),
        ("How many boats were sent?", "Nine were sent.", True),  # the number says nothing else
        ("How many additional passengers did it carry?", "It carried 31,000 extra passengers.", True),
        ("How many additional passengers did it carry?", "It carried 31,000 tonnes of cargo.", False),
        ("How many days did it last?", "It lasted three days.", True),
        ("How many people died?", "At least 23 victims were found.", True),
        ("How many workers struck?", "4,000 of its members joined the strike.", True),
        ("How many workers will be laid off?", "850 people will lose their jobs.", True),
        ("How much rain fell in a day?", "180 millimetres of rain fell.", True),  # "how much": any unit
        ("How much rain fell in a day?", "The river burst its banks.", False),
        ("How much did it cost?", "It cost 62 million crowns.", True),
        ("How much did it cost?", "The mayor refused to say.", False),
        ("Who said it?", "Nobody did.", True),  # not a kind that is checked
        # the unit the question names
        ("What year did the talks begin?", "The deal was signed on Tuesday after eleven rounds.", False),
        ("What year did the talks begin?", "The talks began in 2023.", True),
        ("Which day did Blinken call Aliyev?", "Blinken has called Aliyev twice in 2023.", False),
        ("Which day did Blinken call Aliyev?", "He called him on Saturday.", True),
        ("On what date did the plant open?", "It opened on 25 February.", True),
        ("What month will the fair be held?", "It will be held on 12.07.", True),
        ("What month will the fair be held?", "It will be held on Saturday.", False),
        ("How many people died in the floods?", "The province will pay 5,000 crowns a household.", False),
        # two quantities asked: one number is half an answer, and half an answer is an answer
        ("How many passengers and how many crew were aboard?", "The ferry ran aground at dawn.", False),
        ("How many passengers and how many crew were aboard?", "It carried 312 passengers.", True),
        ("How many passengers and how many crew were aboard?", "It carried 312 passengers and 21 crew.", True),
        ("How many ships queued on the first day, and how many on the second?", "Eleven ships queued.", True),
        # names asked for: a full name the question does not give, not the place it names
        ("What were the names of the miners killed at Drenska?",
         "The number of miners killed at the Drenska North colliery has risen to 7.", False),
        ("What were the names of the miners killed at Drenska?", "The dead were Anton Vilk and Mara Sokol.", True),
        ("What is the name of the mayor of Marenport?", "Marenport mayor Anton Greve said the port would reopen.",
         True),
        # "which judge": a person's name, not the body they sit on, not a name the question gives
        ("Which judge will rule on Ferro's challenge?", "The Administrative Court will rule on Ferro's challenge.",
         False),
        ("Which judge will rule on Ferro's challenge?", "Judge Mara Lenk will rule on Ferro's challenge.", True),
        ("Which minister announced the curfew?", "Interior Minister Halden announced it on Monday.", True),
        ("Which leader did Blinken phone first, Pashinyan or Aliyev?", "He phoned Pashinyan first.", True),
        ("Which spokesperson issued the readout of Blinken's call with Pashinyan?",
         "Blinken held a call on Saturday with Prime Minister Nikol Pashinyan.", False),
        # "which hospital": a name the question does not give
        ("At which hospital did Tomas Reyl die?", "The autopsy found that Tomas Reyl died at the hospital.", False),
        ("At which hospital did Tomas Reyl die?", "Reyl died at St Anne's Hospital on March 6.", True),
        ("Which river burst its banks?", "Heavy rain caused the Olen river to burst its banks.", True),
    ],
)
def test_an_answer_gives_what_is_asked(question, answer, ok):
    assert gives(asks_for(question), answer, question) is ok


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many passengers and how many crew were aboard the ferry when it grounded?",
         ["How many passengers were aboard the ferry when it grounded?",
          "How many crew were aboard the ferry when it grounded?"]),  # the first part borrows the verb
        ("By Thursday, how many people had the slide killed, and how many were still missing?",
         ["By Thursday, how many people had the slide killed?", "How many were still missing?"]),
        # a second part that is only a question word borrows the first part's verb
        ("What time did the roof fall, and on which day?", ["What time did the roof fall?", "On which day did the roof fall?"]),
        ("Did Blinken meet the ministers one at a time, and when?",
         ["Did Blinken meet the ministers one at a time?", "When did Blinken meet the ministers one at a time?"]),
        ("On what day, and at what time, did the train derail?",
         ["On what day did the train derail?", "At what time did the train derail?"]),
        # one question, though it has an "and"
        ("Who hosted the meeting between the foreign ministers of Armenia and Azerbaijan?",
         ["Who hosted the meeting between the foreign ministers of Armenia and Azerbaijan?"]),
        ("How many ships and boats were sent?", ["How many ships and boats were sent?"]),
    ],
)
def test_a_question_that_asks_two_things_is_asked_part_by_part(question, expected):
    assert parts(question) == expected


@pytest.mark.parametrize(
    "question, n",
    [("How many died?", 1), ("How many passengers and how many crew?", 2), ("How much did it cost, and how many paid?", 2),
     ("Who said it?", 0)],
)
def test_quantities_asked(question, n):
    assert quantities_asked(question) == n



@pytest.mark.parametrize(
    "question, said",
    [
        ("Was it Pashinyan who called the Lachin checkpoint Baku's sovereign right?",
         "called the Lachin checkpoint Baku's sovereign right"),
        ("Did the State Department spokesman demand that Baku comply with the ruling?",
         "demand that Baku comply with the ruling"),  # "State" is part of the name, not the verb
        ("Who said the soldiers would repair the roads?", "said the soldiers would repair the roads"),
        ("Which minister warned that the toll could rise?", "warned that the toll could rise"),
        ("Who put the death toll at 23?", "put the death toll at 23"),
        # not who-said-it questions
        ("Did the strike start on Monday?", None),
        ("Was the Tarsa rainfall a record for the province?", None),
        ("What did the EU say about the checkpoint?", None),
        ("Who leads the union?", None),
    ],
)
def test_the_statement_a_who_said_it_question_asks_about(question, said):
    assert statement(question) == said


@pytest.mark.parametrize(
    "question, whose",
    [
        ("How did Kovia's steel producers react to the agreement signed in Vell?", {"kovia"}),
        ("What was Baku's reaction to the remarks?", {"baku"}),
        ("What did the EU say about the new checkpoint?", {"eu"}),
        ("What did the union say about the night shift?", set()),  # no name: any of its officials
        ("What did Aliyev tell Blinken about peace?", {"aliyev"}),
        ("Who said the talks would resume?", set()),
        ("Why did the bridge open late?", set()),
    ],
)
def test_whose_words_a_question_asks_about(question, whose):
    assert whose_words(question) == whose


@pytest.mark.parametrize(
    "question, text, unmet",
    [
        # a readout of another call is a near miss: the question's Pashinyan is nowhere
        ("Which spokesperson issued the readout of Blinken's call with Pashinyan?",
         "Blinken spoke with Aliyev, spokesperson Matthew Miller said in a readout.", ["Pashinyan"]),
        ("What did Blinken tell Pashinyan?", "Blinken told Armenian Prime Minister Nikol Pashinyan that ...", []),
        # other spellings of a name count, and so does a possessive
        ("What did the U.S. say about Kovia's tariff?", "The United States said the Kovian tariff ...", []),
        ("How many ships did the French navy send?", "France sent two frigates.", []),
        # an adverb opening the question is not a name
        ("What day did Moscow say Western mediation had failed?", "Moscow said on Thursday that the US and EU had failed.", []),
        ("Roughly how many people marched in Brastow?", "About 3,000 people marched in Brastow.", []),
        ("What happened in Port Halvern on March 4?", "Date: 2026-03-04 Police clashed with marchers in Port Halvern.", []),
        ("When did the Broadcasting Council act?", "The council suspended two stations in March.", ["Broadcasting"]),
    ],
)
def test_unmet_names(question, text, unmet):
    assert unmet_names(question, text) == unmet


@pytest.mark.parametrize(
    "question, guess",
    [
        ("Was it Blinken who called on the world to respond properly?", {"blinke"}),
        ("Did Lorenz Eckhart call a 9 percent pay rise unrealistic?", {"lorenz", "eckhar"}),
        ("Who said the valve had been replaced?", set()),  # no guess
        ("What did Blinken say about the corridor?", set()),  # not a who-said question
    ],
)
def test_the_speaker_a_question_guesses(question, guess):
    assert guessed_speaker(question) == guess
