from repo_tools.entry import main

if __name__ == "__main__":
    main()
