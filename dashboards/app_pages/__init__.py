"""Dashboard pages, each run as a script by `st.navigation` in dashboards/app.py."""
