"""Pure domain of Aiguillage: catalogue, eligibility rules, flows and the conversation engine.

Nothing in this package touches the network or a database; it only reads its own data files.
"""
