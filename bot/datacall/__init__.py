"""The monthly data call: who owes which figures, the call and its reminders, the figures
dialog, drafts, versions, status and App Home."""
