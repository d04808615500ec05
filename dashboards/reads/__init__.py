"""Readers of the warehouse for the dashboard: each module is named after what it reads.

No Streamlit import and no metric arithmetic here: the build computes the figures into marts.
"""
