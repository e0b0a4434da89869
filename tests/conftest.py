def pytest_configure(config):
    config.addinivalue_line("markers", "browser: opens the built book in headless chromium (slow)")
