"""Pages csatbot serves to a browser: the survey questionnaire a personal link opens."""
