"""HTTP features, one package each: `bp` in __init__.py, routes.py, forms.py. Thin:
parse and validate input, call a service, commit, render or redirect."""
