"""Step 02, segmentation: who the clients are. RFM segments from the sales history
(``rfm``), personas from the survey's choice-factor importances (``personas``, with the
number of personas chosen in ``clustering``), and the premium and budget brands' audiences
compared (``audiences``). ``step.run`` saves them; ``charts`` draws them."""
